import { WithLock } from './with-lock.decorator';

describe('@WithLock', () => {
  it('refuses, when the class is defined, a placeholder that names no parameter', () => {
    expect(() => {
      class Accounts {
        @WithLock('user:{login}')
        async rename(id: string) {
          return id;
        }
      }
      return Accounts;
    }).toThrow('Accounts.rename: @WithLock placeholder {login} names no parameter');
  });

  it('says what is missing when the class was not built by Nest with LockModule', async () => {
    class Accounts {
      @WithLock('user:{id}')
      async rename(id: string) {
        return id;
      }
    }
    await expect(new Accounts().rename('1')).rejects.toThrow(
      'Accounts.rename: @WithLock needs LockModule imported and the class built by Nest',
    );
  });
});
