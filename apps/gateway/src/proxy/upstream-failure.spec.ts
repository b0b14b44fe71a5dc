import { codeOf, failureOf, isRetriedMethod, isTimeout } from './upstream-failure';

/** An error as reply-from gives it: its own code outside, undici's in `cause`. */
const wrapped = (outer: string, inner?: string): Error =>
  Object.assign(new Error('upstream failed'), {
    code: outer,
    ...(inner === undefined ? {} : { cause: Object.assign(new Error('cause'), { code: inner }) }),
  });

describe('upstream failures', () => {
  it("reads undici's code under reply-from's wrapper, or the error's own", () => {
    expect(codeOf(wrapped('FST_REPLY_FROM_INTERNAL_SERVER_ERROR', 'ECONNREFUSED'))).toBe(
      'ECONNREFUSED',
    );
    expect(codeOf(wrapped('ECONNRESET'))).toBe('ECONNRESET');
    expect(codeOf(new Error('no code'))).toBe('');
  });

  it('tells an attempt that never reached the target from one reset or timed out after it did', () => {
    expect(failureOf(wrapped('X', 'ECONNREFUSED'))).toBe('unreached');
    expect(failureOf(wrapped('X', 'UND_ERR_CONNECT_TIMEOUT'))).toBe('unreached');
    expect(failureOf(wrapped('X', 'ENOTFOUND'))).toBe('unreached');
    expect(failureOf(wrapped('X', 'UND_ERR_SOCKET'))).toBe('reset');
    expect(failureOf(wrapped('ECONNRESET'))).toBe('reset');
    expect(failureOf(wrapped('X', 'UND_ERR_HEADERS_TIMEOUT'))).toBe('timeout');
    expect(failureOf(wrapped('X', 'UND_ERR_BODY_TIMEOUT'))).toBe('other');
  });

  it("counts reply-from's own timeout and undici's as timeouts", () => {
    expect(isTimeout(wrapped('FST_REPLY_FROM_GATEWAY_TIMEOUT'))).toBe(true);
    expect(
      isTimeout(wrapped('FST_REPLY_FROM_INTERNAL_SERVER_ERROR', 'UND_ERR_CONNECT_TIMEOUT')),
    ).toBe(true);
    expect(isTimeout(wrapped('X', 'ECONNREFUSED'))).toBe(false);
  });

  it('retries only idempotent methods, never POST or PATCH', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) {
      expect(isRetriedMethod(method)).toBe(true);
    }
    for (const method of ['POST', 'PATCH', 'TRACE', 'CONNECT']) {
      expect(isRetriedMethod(method)).toBe(false);
    }
  });
});
