import type { Counter } from 'prom-client';
import { type MetricsService } from '@lattice/observability';

type Tier = 'l1' | 'l2';
type Child = ReturnType<Counter<string>['labels']>;

/**
 * The cache's Prometheus series. Labelled children are bound once, so
 * counting a hit on the hot path is one increment.
 */
export class CacheMetrics {
  readonly hit: Record<Tier, Child>;
  readonly miss: Record<Tier, Child>;
  readonly loads: { ok: Child; failed: Child };
  readonly staleServed: Child;
  readonly l2Errors: Counter<'operation'>;
  readonly invalidations: { local: Child; remote: Child };
  readonly feedLost: Child;

  constructor(
    metrics: MetricsService,
    state: { entries: () => number; bytes: () => number; trusted: () => boolean },
  ) {
    const hits = metrics.counter('lattice_cache_hits_total', 'Cache lookups answered, by tier', [
      'tier',
    ]);
    const misses = metrics.counter(
      'lattice_cache_misses_total',
      'Cache lookups not answered, by tier',
      ['tier'],
    );
    this.hit = { l1: hits.labels('l1'), l2: hits.labels('l2') };
    this.miss = { l1: misses.labels('l1'), l2: misses.labels('l2') };
    const loads = metrics.counter(
      'lattice_cache_loads_total',
      'getOrSet loader calls, by outcome',
      ['outcome'],
    );
    this.loads = { ok: loads.labels('ok'), failed: loads.labels('failed') };
    this.staleServed = metrics
      .counter(
        'lattice_cache_stale_served_total',
        'Values served past their TTL because the loader failed',
      )
      .labels();
    this.l2Errors = metrics.counter(
      'lattice_cache_l2_errors_total',
      'Cache operations that could not reach Redis, by operation',
      ['operation'],
    );
    const invalidations = metrics.counter(
      'lattice_cache_invalidations_total',
      'Invalidations applied to L1, by where the change was made',
      ['source'],
    );
    this.invalidations = {
      local: invalidations.labels('local'),
      remote: invalidations.labels('remote'),
    };
    this.feedLost = metrics
      .counter(
        'lattice_cache_feed_lost_total',
        'Times the invalidation feed was lost and L1 emptied',
      )
      .labels();
    // Read at scrape time: no work on the hot path.
    const entries = metrics.gauge('lattice_cache_l1_entries', 'Entries held in process');
    const bytes = metrics.gauge('lattice_cache_l1_bytes', 'Approximate bytes held in process');
    const trusted = metrics.gauge(
      'lattice_cache_l1_trusted',
      '1 while L1 is in use (invalidation feed complete)',
    );
    Object.assign(entries, { collect: () => entries.set(state.entries()) });
    Object.assign(bytes, { collect: () => bytes.set(state.bytes()) });
    Object.assign(trusted, { collect: () => trusted.set(state.trusted() ? 1 : 0) });
  }
}
