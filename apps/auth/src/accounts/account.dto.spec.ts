import { ValidationFailedError } from '@lattice/common';
import { ZodValidationPipe } from '@lattice/api';
import { RegisterBody } from './account.dto';

const pipe = new ZodValidationPipe();
const register = (name: string) =>
  pipe.transform(
    { login: 'ada', name, password: 'correct horse' },
    { type: 'body', metatype: RegisterBody },
  );

describe('the display name at registration', () => {
  it.each(['Ada Lovelace', 'Zoë', '李小龍', 'مرحبا', '🎉 party'])('accepts %j', (name) => {
    expect(register(name)).toMatchObject({ name });
  });

  it.each([
    ['a NUL byte', 'Ada\u0000Admin'],
    ['an escape sequence', '\u001b[2J\u001b[HAda'],
    ['a newline inside', 'Ada\nAdmin'],
    ['a C1 control', 'Ada\u009bAdmin'],
    ['a right-to-left override', 'Ada\u202enimdA'],
    ['a directional isolate', 'Ada\u2067Admin\u2069'],
    ['a right-to-left mark', 'Ada\u200f'],
  ])('refuses %s with VALIDATION_FAILED on `name`', (_what, name) => {
    let error: unknown;
    try {
      register(name);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).details).toEqual([
      { path: 'name', message: expect.stringMatching(/control characters/) },
    ]);
  });
});
