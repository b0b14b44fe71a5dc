import type { Logger } from '@nestjs/common';
import { runInLockScope } from './lock.context';
import type { Lock } from './lock.handle';
import { LockKeeper } from './lock.keeper';
import type { LockedWork } from './lock.types';

/**
 * Runs `work(signal, token)` under a held lock, renewing it (LockKeeper), and
 * releases it after. Rejects with the LockLostError if the lock was lost
 * before `work` settled, whatever `work` returned.
 */
export async function holdLock<T>(
  lock: Lock,
  ttlMs: number,
  work: LockedWork<T>,
  logger: Pick<Logger, 'warn'>,
): Promise<T> {
  const keeper = new LockKeeper(lock, ttlMs, (lost) =>
    logger.warn(`Lost the lock on ${lock.resources.join(', ')} (${lost.reason})`),
  );
  let result: T;
  try {
    const scope = { lock, token: lock.token, signal: keeper.signal };
    result = await runInLockScope(scope, () => work(keeper.signal, lock.token));
  } catch (error) {
    const lost = keeper.stop();
    await releaseQuietly(lock, logger);
    if (lost && error !== lost && lost.cause === undefined) lost.cause = error;
    throw lost ?? error;
  }
  const lost = keeper.stop();
  await releaseQuietly(lock, logger);
  if (lost) throw lost;
  return result;
}

/** The work is over: a release that fails only leaves a lease that expires by itself. */
async function releaseQuietly(lock: Lock, logger: Pick<Logger, 'warn'>): Promise<void> {
  try {
    await lock.release();
  } catch (error) {
    logger.warn(`Could not release the lock on ${lock.resources.join(', ')}: ${String(error)}`);
  }
}
