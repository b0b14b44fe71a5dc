/**
 * What became of an attempt at an upstream target, from the error undici or
 * @fastify/reply-from gave: whether it reached the target, was reset before
 * any answer, or timed out. The proxy decides from it whether the target's
 * breaker counts a failure and whether the request may go to another target.
 */

const TIMEOUT_CODES = new Set([
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/** Failures before anything reached the target: connection refused, connect timeout, DNS, no route. */
const UNREACHED_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** The connection closed or reset under a request that had no answer yet. */
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
const ANSWER_TIMEOUT_CODES = new Set([
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/** Methods sent again to another target after a failure to reach the first (RFC 9110 idempotent, less TRACE). */
const RETRIED_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export const isRetriedMethod = (method: string): boolean => RETRIED_METHODS.has(method);

/** The code that says what went wrong: undici's own, under reply-from's wrapper when there is one. */
export function codeOf(error: Error): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return cause || ((error as { code?: string }).code ?? '');
}

export function failureOf(error: Error): 'unreached' | 'reset' | 'timeout' | 'other' {
  const code = codeOf(error);
  if (UNREACHED_CODES.has(code)) return 'unreached';
  if (RESET_CODES.has(code)) return 'reset';
  if (ANSWER_TIMEOUT_CODES.has(code)) return 'timeout';
  return 'other';
}

/** Whether the attempt ran out of time (connecting, or waiting for the answer's head or body). */
export function isTimeout(error: Error): boolean {
  const outer = (error as { code?: string }).code ?? '';
  return TIMEOUT_CODES.has(outer) || TIMEOUT_CODES.has(codeOf(error));
}
