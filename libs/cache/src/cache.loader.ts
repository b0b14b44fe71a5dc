import { Logger } from '@nestjs/common';
import { LockLostError, LockNotAcquiredError } from '@lattice/lock';
import { CacheLoadTimeoutError, CacheLockTimeoutError, describeError } from './cache.errors';
import { versionOf, type CacheRecord } from './cache-record';
import type { CacheLoader } from './cache.types';
import { type PendingFill } from './fill.tracker';
import { GraceFallback, type Stale } from './grace.fallback';
import { LoaderRunner } from './loader.runner';
import type { LoadContext, LoadPlan, Outcome } from './cache-load.types';

/** One load on this instance: callers of its key share `answer` while it is current. */
interface Flight {
  fill: PendingFill;
  answer: Promise<Outcome>;
  /** Answers early (a stale value at the soft timeout); later answers are ignored. */
  settle(outcome: Outcome): void;
  startedAt: number;
  softTimer?: NodeJS.Timeout;
}

/** Pause between attempts at the loader lock while another instance loads. */
const LOCK_POLL_MS = 25;

/**
 * The loads behind `getOrSet`: one flight per key on this instance, the
 * cross-instance lock and poll of `lock: true`, the soft timeout, and early
 * refresh of values near the end of their life. Each run of the loader (its
 * hard timeout, the conditional store of its result) is LoaderRunner's; the
 * stale fallback of grace is GraceFallback's.
 */
export class CacheLoads {
  private readonly logger = new Logger('Cache');
  private readonly flights = new Map<string, Flight>();
  /** Keys this instance is refreshing early (at most one refresh per key here). */
  private readonly refreshing = new Set<string>();
  private readonly grace: GraceFallback;
  private readonly runner: LoaderRunner;

  constructor(private readonly ctx: LoadContext) {
    this.grace = new GraceFallback(ctx.metrics);
    this.runner = new LoaderRunner(ctx, this.grace);
  }

  /**
   * The value of `key` after an L1 miss: joins the load in flight for the
   * key unless something invalidated the key since it began (its answer may
   * predate the change), else starts one. `staleCopy`: L1's copy in grace.
   */
  getOrLoad(
    key: string,
    loader: CacheLoader<unknown>,
    plan: LoadPlan,
    staleCopy: CacheRecord | undefined,
  ): Promise<Outcome> {
    const current = this.flights.get(key);
    if (current !== undefined && this.ctx.tracker.isCurrent(current.fill)) return current.answer;
    let settle!: (outcome: Outcome) => void;
    let fail!: (error: unknown) => void;
    const answer = new Promise<Outcome>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    const flight: Flight = {
      fill: this.ctx.tracker.begin(key),
      answer,
      settle,
      startedAt: Date.now(),
    };
    this.flights.set(key, flight);
    // The flight lasts until the load is over, in the background too, so no second load starts meanwhile.
    void this.load(key, loader, plan, flight, staleCopy)
      .then(settle, fail)
      .finally(() => {
        clearTimeout(flight.softTimer);
        this.ctx.tracker.settle(flight.fill);
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    return answer;
  }

  /**
   * Starts a background refresh of `key` when `record` (fresh) has less than
   * `plan.refreshWithinMs` left: under the lock `cache-refresh:<key>`, not
   * waited for, so one instance refreshes and the others skip; skipped too if
   * the entry in Redis is no longer the one seen (someone refreshed it).
   */
  refreshIfDue(
    key: string,
    loader: CacheLoader<unknown>,
    plan: LoadPlan,
    record: CacheRecord,
  ): void {
    if (plan.refreshWithinMs === undefined) return;
    if (record.freshUntil - Date.now() > plan.refreshWithinMs) return;
    if (this.refreshing.has(key) || this.flights.has(key)) return;
    this.refreshing.add(key);
    const refresh = async (signal: AbortSignal) => {
      const raw = await this.ctx.l2.read(key);
      if (raw === null || versionOf(raw) !== record.version) return;
      const fill = this.ctx.tracker.begin(key);
      try {
        const both = AbortSignal.any([signal, this.ctx.shutdown]);
        await this.runner.loadAndStore(key, loader, plan, fill, record.version, undefined, both);
      } finally {
        this.ctx.tracker.settle(fill);
      }
    };
    this.ctx.locks
      .using(`cache-refresh:${key}`, this.ctx.lockTtlMs, refresh, { retryCount: 0 })
      .catch((error: unknown) => {
        if (error instanceof LockNotAcquiredError) return; // another instance is refreshing
        this.logger.warn(`Refreshing "${key}" early failed: ${describeError(error)}`);
      })
      .finally(() => this.refreshing.delete(key));
  }

  private async load(
    key: string,
    loader: CacheLoader<unknown>,
    plan: LoadPlan,
    flight: Flight,
    staleCopy: CacheRecord | undefined,
  ): Promise<Outcome> {
    const { fill } = flight;
    let raw: string | null;
    try {
      raw = await this.ctx.l2.read(key);
    } catch (error) {
      this.ctx.metrics.l2Errors.inc({ operation: 'getOrSet' });
      const stale = this.grace.usable(staleCopy, 'l1');
      this.answerStaleAfterSoftTimeout(key, plan, flight, stale);
      return this.runner.loadWithoutRedis(key, loader, plan, stale, error);
    }
    const record = raw === null ? null : this.ctx.parse(raw, key);
    if (record !== null && Date.now() < record.freshUntil) {
      this.ctx.metrics.hit.l2.inc();
      if (this.ctx.tracker.settle(fill, record.version)) this.ctx.memory.set(key, record);
      this.refreshIfDue(key, loader, plan, record);
      return { record, source: 'l2', stale: false };
    }
    this.ctx.metrics.miss.l2.inc();
    const stale =
      this.grace.usable(record ?? undefined, 'l2') ?? this.grace.usable(staleCopy, 'l1');
    this.answerStaleAfterSoftTimeout(key, plan, flight, stale);
    const expected = raw === null ? '' : (versionOf(raw) ?? '');
    if (plan.lockWaitMs === null) {
      return this.runner.loadAndStore(key, loader, plan, fill, expected, stale, this.ctx.shutdown);
    }
    return this.loadUnderLock(key, loader, plan, fill, stale, plan.lockWaitMs);
  }

  /** `softTimeoutMs` after the flight began, callers get the value in grace; the load goes on. */
  private answerStaleAfterSoftTimeout(
    key: string,
    plan: LoadPlan,
    flight: Flight,
    stale: Stale | undefined,
  ): void {
    if (plan.softTimeoutMs === undefined || stale === undefined) return;
    const timeoutMs = plan.softTimeoutMs;
    const answer = () =>
      flight.settle(
        this.grace.serve(key, stale, new CacheLoadTimeoutError(key, timeoutMs, 'soft')),
      );
    flight.softTimer = setTimeout(answer, Math.max(0, flight.startedAt + timeoutMs - Date.now()));
  }

  /**
   * `lock: true`: the loader runs under the lock `cache:<key>` of the lock
   * lib, on one instance at a time. The others do not queue for the lock:
   * between attempts they look in Redis, and take the value as soon as the
   * loading instance has stored it. Whoever gets the lock reads Redis again
   * first, in case the value arrived just before.
   */
  private async loadUnderLock(
    key: string,
    loader: CacheLoader<unknown>,
    plan: LoadPlan,
    fill: PendingFill,
    stale: Stale | undefined,
    lockWaitMs: number,
  ): Promise<Outcome> {
    const { l2, tracker, memory, metrics } = this.ctx;
    const deadline = Date.now() + lockWaitMs;
    let outcome: Outcome | undefined;
    const work = async (signal: AbortSignal): Promise<Outcome> => {
      let raw: string | null;
      try {
        raw = await l2.read(key);
      } catch (error) {
        metrics.l2Errors.inc({ operation: 'getOrSet' });
        return (outcome = await this.runner.loadWithoutRedis(key, loader, plan, stale, error));
      }
      const record = raw === null ? null : this.ctx.parse(raw, key);
      if (record !== null && Date.now() < record.freshUntil) {
        if (tracker.settle(fill, record.version)) memory.set(key, record);
        return (outcome = { record, source: 'l2', stale: false });
      }
      const expected = raw === null ? '' : (versionOf(raw) ?? '');
      const both = AbortSignal.any([signal, this.ctx.shutdown]);
      const fallback = this.grace.usable(record ?? undefined, 'l2') ?? stale;
      return (outcome = await this.runner.loadAndStore(
        key,
        loader,
        plan,
        fill,
        expected,
        fallback,
        both,
      ));
    };
    for (;;) {
      try {
        return await this.ctx.locks.using(`cache:${key}`, this.ctx.lockTtlMs, work, {
          retryCount: 0,
        });
      } catch (error) {
        // Loaded and stored, but the lease ran out on the way: the value is still good.
        if (outcome !== undefined && error instanceof LockLostError) return outcome;
        if (!(error instanceof LockNotAcquiredError)) throw error;
        if (error.reason === 'unreachable')
          return this.runner.loadWithoutRedis(key, loader, plan, stale, error);
      }
      // Another instance holds the lock and is loading.
      await new Promise((resolve) =>
        setTimeout(resolve, LOCK_POLL_MS + Math.random() * LOCK_POLL_MS),
      );
      const raw = await l2.read(key).catch(() => null);
      const record = raw === null ? null : this.ctx.parse(raw, key);
      if (record !== null && Date.now() < record.freshUntil) {
        if (tracker.settle(fill, record.version)) memory.set(key, record);
        return { record, source: 'l2', stale: false };
      }
      if (Date.now() >= deadline || this.ctx.shutdown.aborted) {
        const timeout = new CacheLockTimeoutError(key, lockWaitMs);
        if (stale) return this.grace.serve(key, stale, timeout);
        throw timeout;
      }
    }
  }
}
