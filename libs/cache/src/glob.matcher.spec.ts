import { globToRegExp } from './glob.matcher';

describe('globToRegExp', () => {
  const cases: [string, string[], string[]][] = [
    ['*', ['', 'a', 'a:b:c'], []],
    ['routes:*', ['routes:', 'routes:table', 'routes:a:b'], ['route:x', 'xroutes:a']],
    ['user:?', ['user:1', 'user:a'], ['user:', 'user:12']],
    ['user:[0-9]*', ['user:1', 'user:42:x'], ['user:a', 'user:']],
    ['v[^0-9]', ['va', 'v:'], ['v1', 'v']],
    ['a.b', ['a.b'], ['axb']],
    ['a+b=c/d@e,f', ['a+b=c/d@e,f'], ['aab=c/d@e,f']],
    ['x[a-c.]', ['xa', 'xc', 'x.'], ['xd', 'x-']],
  ];
  it.each(cases)('%s matches like Redis', (pattern, yes, no) => {
    const re = globToRegExp(pattern);
    for (const key of yes) expect([key, re.test(key)]).toEqual([key, true]);
    for (const key of no) expect([key, re.test(key)]).toEqual([key, false]);
  });
});
