import type { Logger } from '@nestjs/common';
import type { LockEngine } from './lock.engine';
import { LockNotAcquiredError } from './lock.errors';
import { Lock, engineLease } from './lock.handle';
import { runInLockScope } from './lock.context';
import { doneKey, type LockKeys } from './lock.keys';
import { LockKeeper } from './lock.keeper';
import { ownerValue } from './lock.owner';
import { jitter, sleep } from './lock.timing';
import type { LockedWork } from './lock.types';

export interface RunOnceSettings {
  leaseTtlMs: number;
  doneTtlMs: number;
  pollMs: number;
  signal: AbortSignal;
}

/**
 * One caller of `runOnce`. Each loop is one script on Redis that either finds
 * the task done, or takes the runner's lease, or finds it taken; the runner
 * marks the task done and ends its lease in one step, so a waiter never sees
 * the lease gone without the mark. A runner that dies leaves a lease that
 * expires, and a waiter becomes the runner.
 */
export class RunOnceTask {
  private readonly done: string;

  constructor(
    private readonly engine: LockEngine,
    private readonly keys: LockKeys,
    private readonly task: LockedWork<void>,
    private readonly settings: RunOnceSettings,
    private readonly logger: Logger,
  ) {
    this.done = doneKey(keys);
  }

  async run(): Promise<void> {
    const { signal, leaseTtlMs, pollMs } = this.settings;
    let attempts = 0;
    let warned = false;
    for (;;) {
      if (signal.aborted) {
        throw new LockNotAcquiredError(this.keys.resources, 'aborted', attempts, signal.reason);
      }
      attempts++;
      const value = ownerValue();
      const attempt = await this.engine.attempt(this.keys, value, leaseTtlMs, this.done);
      switch (attempt.kind) {
        case 'done':
          return;
        case 'granted': {
          const lock = new Lock(
            engineLease(this.engine, this.keys, value),
            attempt.token,
            attempt.validUntil,
          );
          if (await this.runAsRunner(lock, value)) return;
          // The lease was lost mid-run: the task is whoever took it over's now; wait for them.
          continue;
        }
        case 'unreachable':
          if (!warned)
            this.logger.warn(`Run-once task waiting for Redis: ${String(attempt.cause)}`);
          warned = true;
          break;
        case 'held':
          break;
      }
      const pause = pollMs / 2 + jitter(pollMs);
      const wait =
        attempt.kind === 'held' && attempt.retryAfterMs >= 0
          ? Math.min(pause, attempt.retryAfterMs + 1)
          : pause;
      await sleep(wait, signal);
    }
  }

  /** True when the task ran and is marked done; false when the lease was lost on the way. */
  private async runAsRunner(lock: Lock, value: string): Promise<boolean> {
    const keeper = new LockKeeper(lock, this.settings.leaseTtlMs, (lost) =>
      this.logger.warn(
        `Run-once task lost its lease (${lost.reason}); another instance takes over`,
      ),
    );
    try {
      const scope = { lock, token: lock.token, signal: keeper.signal };
      await runInLockScope(scope, () => this.task(keeper.signal, lock.token));
    } catch (error) {
      const lost = keeper.stop();
      await lock.release().catch(() => undefined);
      if (lost) return false;
      // A failed task is not done: the lease is free again, and a waiting instance runs it.
      throw error;
    }
    // Marking it done needs the lease: retry while Redis does not answer, until the lease runs out.
    for (;;) {
      if (keeper.check()) {
        keeper.stop();
        await lock.release().catch(() => undefined);
        return false;
      }
      const outcome = await this.engine.finish(
        this.keys,
        value,
        this.done,
        this.settings.doneTtlMs,
      );
      if (outcome !== 'unreachable') {
        keeper.stop();
        return outcome === 'finished';
      }
      await sleep(Math.min(200, this.settings.leaseTtlMs / 10));
    }
  }
}
