import { DeadlineExceededError } from './rate-limit.errors';

/**
 * Settles like `promise`, or rejects with DeadlineExceededError once `ms` have
 * passed. When the timer fires, a reply may already be waiting on the socket
 * behind a busy event loop: the verdict is taken after the loop's I/O phase
 * (setImmediate), so a slow loop is not mistaken for a slow Redis.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new DeadlineExceededError(ms));
      });
    }, ms);
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
