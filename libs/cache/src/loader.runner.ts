import { Logger } from '@nestjs/common';
import { traced } from '@lattice/observability';
import { CacheLoadTimeoutError } from './cache.errors';
import type { LoadContext, LoadPlan, Outcome } from './cache-load.types';
import type { CacheLoader } from './cache.types';
import { type PendingFill } from './fill.tracker';
import { type GraceFallback, type Stale } from './grace.fallback';

/**
 * One run of a getOrSet loader: called under its hard timeout, traced and
 * counted, its value stored in Redis only if nobody wrote the entry while it
 * ran (or, with Redis unreachable, served without caching), and a value in
 * grace served instead when it fails. CacheLoads decides when a run happens.
 */
export class LoaderRunner {
  private readonly logger = new Logger('Cache');

  constructor(
    private readonly ctx: LoadContext,
    private readonly grace: GraceFallback,
  ) {}

  /**
   * Calls the loader and stores its value in Redis if the entry still holds
   * `expected` (the version the load started from, '' for none), and in L1 if
   * `fill` may. Someone else's newer fresh value wins over the one loaded.
   */
  async loadAndStore(
    key: string,
    loader: CacheLoader<unknown>,
    plan: LoadPlan,
    fill: PendingFill,
    expected: string,
    stale: Stale | undefined,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const { l2, tracker, memory, metrics, bus } = this.ctx;
    let loaded: unknown;
    try {
      loaded = await this.callLoader(key, loader, plan, signal);
    } catch (error) {
      if (stale) return this.grace.serve(key, stale, error);
      throw error;
    }
    const { raw, record, pxMs } = this.ctx.prepare(key, loaded, plan.write);
    let stored;
    try {
      if (plan.write.tags.length > 0) await l2.tag(key, plan.write.tags, pxMs);
      stored = await l2.fill(
        key,
        raw,
        pxMs,
        expected,
        bus.message({ key, version: record.version }),
      );
    } catch {
      // Redis is away: the value is good, it just cannot be shared.
      metrics.l2Errors.inc({ operation: 'getOrSet' });
      return { record, source: 'loader', stale: false };
    }
    if (stored.written) {
      if (tracker.settle(fill, record.version)) memory.set(key, record);
      return { record, source: 'loader', stale: false };
    }
    // Someone wrote the entry while this loader ran: theirs is newer than what it started from.
    const theirs = stored.current === null ? null : this.ctx.parse(stored.current, key);
    if (theirs !== null && Date.now() < theirs.freshUntil)
      return { record: theirs, source: 'l2', stale: false };
    return { record, source: 'loader', stale: false };
  }

  /** Redis cannot be read: load anyway (once per instance) and serve without caching. */
  async loadWithoutRedis(
    key: string,
    loader: CacheLoader<unknown>,
    plan: LoadPlan,
    stale: Stale | undefined,
    cause: unknown,
  ): Promise<Outcome> {
    let loaded: unknown;
    try {
      loaded = await this.callLoader(key, loader, plan, this.ctx.shutdown);
    } catch (error) {
      if (stale) return this.grace.serve(key, stale, error);
      throw error;
    }
    this.logger.debug(
      `Loaded "${key}" without caching it: Redis is unreachable (${String(cause)})`,
    );
    const { record } = this.ctx.prepare(key, loaded, plan.write);
    return { record, source: 'loader', stale: false };
  }

  /**
   * Calls the loader, counting the outcome. With `hardTimeoutMs`, the
   * loader's signal aborts at the deadline and the call fails with
   * CacheLoadTimeoutError, whether or not the loader heeds the signal.
   */
  private async callLoader(
    key: string,
    loader: CacheLoader<unknown>,
    plan: LoadPlan,
    signal: AbortSignal,
  ): Promise<unknown> {
    const { metrics } = this.ctx;
    const hardMs = plan.hardTimeoutMs;
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired =
      hardMs === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const timeout = new CacheLoadTimeoutError(key, hardMs, 'hard');
              deadline.abort(timeout);
              reject(timeout);
            }, hardMs);
          });
    try {
      const loading = traced('cache.load', { 'lattice.cache.key': key }, () =>
        Promise.resolve().then(() =>
          loader(expired ? AbortSignal.any([signal, deadline.signal]) : signal),
        ),
      );
      const loaded = await (expired ? Promise.race([loading, expired]) : loading);
      metrics.loads.ok.inc();
      return loaded;
    } catch (error) {
      metrics.loads.failed.inc();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
