import { compileResources, parameterNames } from './resource.template';

describe('resource templates of @WithLock', () => {
  class Example {
    async plain(login: string, options = { retry: (1 + 2) * 3 }, ...rest: unknown[]) {
      return [login, options, rest];
    }
    async destructured({ id }: { id: string }, order: { id: number }) {
      return [id, order];
    }
  }
  const proto = Example.prototype;

  it('reads the names of simple parameters from the method', () => {
    expect(parameterNames(proto.plain)).toEqual(['login', 'options', 'rest']);
    expect(parameterNames(proto.destructured)).toEqual([undefined, 'order']);
    expect(parameterNames(async () => undefined)).toEqual([]);
  });

  it('fills placeholders by name, by position and by property path', () => {
    const resources = compileResources(
      ['user:{login}', 'first:{0}', 'retry:{options.retry}'],
      proto.plain,
      'Example.plain',
    );
    expect(resources(['alice', { retry: 3 }])).toEqual(['user:alice', 'first:alice', 'retry:3']);
    expect(
      compileResources('order:{1.id}', proto.destructured, 'x')([{ id: 'a' }, { id: 7 }]),
    ).toEqual(['order:7']);
  });

  it('takes a function of the arguments as it is', () => {
    const resources = compileResources(
      (login: string) => [`user:${login.toLowerCase()}`],
      proto.plain,
      'x',
    );
    expect(resources(['Alice'])).toEqual(['user:alice']);
  });

  it('refuses a placeholder without a parameter when compiled, and a missing value when called', () => {
    expect(() => compileResources('user:{id}', proto.plain, 'Example.plain')).toThrow(
      'Example.plain: @WithLock placeholder {id} names no parameter',
    );
    expect(() => compileResources('user:{a b}', proto.plain, 'Example.plain')).toThrow(
      'is not a parameter path',
    );
    const resources = compileResources('user:{options.missing}', proto.plain, 'Example.plain');
    expect(() => resources(['alice', {}])).toThrow('{options.missing} is undefined');
  });
});
