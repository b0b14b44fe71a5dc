import { AsyncLocalStorage } from 'node:async_hooks';
import { currentTraceIds } from './tracing';

/** What every log line made while a request runs says about it. */
interface RequestContext {
  requestId: string;
}

/** The request being served, set by RequestLogHook's onRequest hook for the rest of the request. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/**
 * Fields added to every log line (pino's `mixin`): the request id while a
 * request runs, and its trace and span ids while tracing is on. Empty
 * otherwise; `req`, written by the request line itself, already names it.
 */
export function logContext(): Record<string, string> {
  const store = requestContext.getStore();
  const ids = currentTraceIds();
  if (!store && !ids) return {};
  return { ...(store && { requestId: store.requestId }), ...ids };
}
