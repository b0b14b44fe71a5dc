import { cacheKeyProblem, cachePatternProblem } from './cache-key';

describe('cache keys', () => {
  it.each(['a', 'routes:table', 'user/42@v2', 'a.b-c_d+e=f,g', 'x'.repeat(256)])(
    'accepts %s',
    (key) => {
      expect(cacheKeyProblem(key)).toBeNull();
    },
  );

  it.each([
    ['', 'empty'],
    ['x'.repeat(257), 'too long'],
    ['a b', 'a space'],
    ['a*', 'a glob star'],
    ['a?', 'a glob question mark'],
    ['a[1]', 'brackets'],
    ['a\\b', 'a backslash'],
    ['{tag}', 'braces'],
    ['é', 'non-ASCII'],
    ['a\nb', 'a newline'],
  ])('refuses %j (%s)', (key) => {
    expect(cacheKeyProblem(key)).toMatch(/must be 1 to 256 characters/);
  });

  it('refuses what is not a string', () => {
    expect(cacheKeyProblem(42)).toBe('must be a string');
    expect(cacheKeyProblem(undefined)).toBe('must be a string');
  });
});

describe('cache patterns', () => {
  it.each(['*', 'routes:*', 'user:?', 'user:[0-9]*', 'v[^0-9]', 'a[bc]d', 'exact-key', '*:*:*'])(
    'accepts %s',
    (pattern) => expect(cachePatternProblem(pattern)).toBeNull(),
  );

  it.each([
    ['', /1 to 256/],
    ['*'.repeat(17), /at most 16 wildcards/],
    ['a[bc', /never closed/],
    ['a]b', /without a \[/],
    ['a[]', /empty/],
    ['a[^]', /empty/],
    ['a[a-]', /no end/],
    ['a[-a]', /not allowed/],
    ['a[z-a]', /backwards/],
    ['a\\*', /may not contain \\/],
    ['a b*', /may not contain " "/],
    ['{x}*', /may not contain "\{"/],
    ['a[[]', /not allowed/],
  ])('refuses %j', (pattern, reason) => {
    expect(cachePatternProblem(pattern)).toMatch(reason);
  });
});
