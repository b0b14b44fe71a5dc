import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lock } from './lock.handle';

/** The lock the current code runs under, for code that cannot take it as arguments (@WithLock methods). */
export interface LockScope {
  readonly lock: Lock;
  /** The fencing token to present to the protected resource. */
  readonly token: bigint;
  /** Aborts, with a LockLostError as its reason, the moment the lock is lost. */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<LockScope>();

/** The innermost lock held by `using`, `@WithLock`, `runOnce` or a leader job around this call. */
export function currentLock(): LockScope | undefined {
  return storage.getStore();
}

export function runInLockScope<T>(scope: LockScope, work: () => Promise<T>): Promise<T> {
  return storage.run(scope, work);
}
