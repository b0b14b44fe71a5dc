import type { Logger } from '@nestjs/common';
import type { LockEngine } from './lock.engine';
import { Lock, engineLease } from './lock.handle';
import { runInLockScope } from './lock.context';
import type { LockKeys } from './lock.keys';
import { LockKeeper } from './lock.keeper';
import { ownerValue } from './lock.owner';
import { jitter, monotonicNow, sleep } from './lock.timing';
import type { LeadOptions, LockedWork } from './lock.types';

interface Term {
  lock: Lock;
  keeper: LockKeeper;
}

/**
 * One instance's candidacy for a leader lease, from `LockService.lead`. While
 * it leads, the lease is renewed and the job runs; followers try again the
 * moment the leader's lease would expire, so when the leader's process dies
 * another instance leads within one TTL.
 */
export class Leadership {
  private readonly stopping = new AbortController();
  private term?: Term;
  private readonly campaign: Promise<void>;

  /** @internal Built by LockService.lead. */
  constructor(
    private readonly engine: LockEngine,
    private readonly keys: LockKeys,
    readonly name: string,
    private readonly ttlMs: number,
    private readonly job: LockedWork<void>,
    private readonly options: LeadOptions,
    private readonly logger: Logger,
  ) {
    this.campaign = this.run().catch((error: unknown) =>
      this.logger.error(`Leader election "${name}" stopped: ${String(error)}`),
    );
  }

  /** True while this instance holds the lease. */
  get isLeader(): boolean {
    return this.term !== undefined && this.term.lock.isHeld;
  }

  /** The fencing token of the current term while leading: larger in every later term. */
  get token(): bigint | undefined {
    return this.isLeader ? this.term?.lock.token : undefined;
  }

  /**
   * Stops campaigning; a leader aborts its job's signal, waits for the job to
   * return (at most one TTL) and releases the lease so that a follower takes
   * over at its next try.
   */
  async stop(): Promise<void> {
    if (!this.stopping.signal.aborted) {
      this.stopping.abort();
      this.term?.keeper.abort(new DOMException('The leader is stepping down', 'AbortError'));
    }
    const waited = new AbortController();
    const ended = await Promise.race([
      this.campaign.then(() => true),
      sleep(this.ttlMs, waited.signal).then(() => false),
    ]);
    waited.abort();
    if (!ended && this.term) {
      // The job ignores its signal: stop renewing and let the lease go; its late writes are fenced.
      const { lock, keeper } = this.term;
      keeper.stop();
      await lock.release().catch(() => undefined);
    }
  }

  private async run(): Promise<void> {
    const stopping = this.stopping.signal;
    while (!stopping.aborted) {
      const value = ownerValue();
      const attempt = await this.engine.attempt(this.keys, value, this.ttlMs);
      if (attempt.kind === 'granted') {
        const lock = new Lock(
          engineLease(this.engine, this.keys, value),
          attempt.token,
          attempt.validUntil,
        );
        // Elected while being stopped: hand the lease straight back.
        if (stopping.aborted) {
          await lock.release().catch(() => undefined);
          break;
        }
        await this.serve(lock);
        // A job that returned on its own gives the others a turn before campaigning again.
        if (!this.options.everyMs) await sleep(this.ttlMs / 2, stopping);
        continue;
      }
      // Try again when the leader's lease would run out: a dead leader is replaced within one TTL.
      const spread = jitter(Math.min(50, this.ttlMs / 10));
      const wait =
        attempt.kind === 'held' && attempt.retryAfterMs >= 0
          ? Math.min(attempt.retryAfterMs, this.ttlMs / 2)
          : this.ttlMs / 4;
      await sleep(wait + spread, stopping);
    }
  }

  private async serve(lock: Lock): Promise<void> {
    const keeper = new LockKeeper(lock, this.ttlMs, (lost) =>
      this.logger.warn(`Lost the leadership of "${this.name}" (${lost.reason})`),
    );
    this.term = { lock, keeper };
    this.logger.log(`Leading "${this.name}" with fencing token ${lock.token}`);
    const scope = { lock, token: lock.token, signal: keeper.signal };
    try {
      do {
        const started = monotonicNow();
        try {
          await runInLockScope(scope, () => this.job(keeper.signal, lock.token));
        } catch (error) {
          if (!keeper.signal.aborted) {
            this.logger.warn(`Leader job "${this.name}" failed: ${String(error)}`);
          }
        }
        if (!this.options.everyMs) break;
        await sleep(this.options.everyMs - (monotonicNow() - started), keeper.signal);
      } while (!keeper.signal.aborted && !this.stopping.signal.aborted);
    } finally {
      keeper.stop();
      this.term = undefined;
      await lock.release().catch(() => undefined);
    }
  }
}
