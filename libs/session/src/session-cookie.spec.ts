import { readSessionCookie } from './session-cookie';

describe('readSessionCookie', () => {
  it('finds sid among other cookies', () => {
    expect(readSessionCookie('a=1; sid=abc.def; b=2')).toBe('abc.def');
    expect(readSessionCookie('sid=x')).toBe('x');
  });

  it('ignores look-alikes and empty values', () => {
    expect(readSessionCookie('xsid=1; sidx=2')).toBeUndefined();
    expect(readSessionCookie('sid=')).toBeUndefined();
    expect(readSessionCookie(undefined)).toBeUndefined();
  });
});
