import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { LockService } from '@lattice/lock';
import { MetricsService } from '@lattice/observability';
import { RedisService } from '@lattice/redis';
import { CACHE_DEFAULTS } from './cache.constants';
import { CACHE_OPTIONS } from './cache.di-tokens';
import { CacheNamespace } from './cache.namespace';
import { CacheStore, type StoreSettings } from './cache.store';
import type { CacheModuleOptions } from './cache-module.options';

function settingsOf(options: CacheModuleOptions): StoreSettings {
  return {
    ttl: options.ttl ?? CACHE_DEFAULTS.ttl,
    jitter: options.jitter ?? CACHE_DEFAULTS.jitter,
    l1: {
      maxEntries: options.l1?.maxEntries ?? CACHE_DEFAULTS.l1MaxEntries,
      maxBytes: options.l1?.maxBytes ?? CACHE_DEFAULTS.l1MaxBytes,
      maxEntryBytes: options.l1?.maxEntryBytes ?? CACHE_DEFAULTS.l1MaxEntryBytes,
    },
    bus: {
      heartbeatMs: options.bus?.heartbeatMs ?? CACHE_DEFAULTS.heartbeatMs,
      staleAfterMs: options.bus?.staleAfterMs ?? CACHE_DEFAULTS.staleAfterMs,
    },
    lockTtlMs: options.lockTtlMs ?? CACHE_DEFAULTS.lockTtlMs,
  };
}

/**
 * The root namespace of the app's two-level cache (see CacheNamespace for the
 * operations), plus start-up warming. One per app; inject it anywhere.
 */
@Injectable()
export class CacheService
  extends CacheNamespace
  implements OnModuleInit, BeforeApplicationShutdown
{
  constructor(
    redis: RedisService,
    private readonly locks: LockService,
    metrics: MetricsService,
    @Inject(CACHE_OPTIONS) options: CacheModuleOptions,
  ) {
    super(new CacheStore(redis, locks, metrics, settingsOf(options)), '');
  }

  onModuleInit(): void {
    this.store.start();
  }

  /** Before Redis closes: the invalidation feed stops, and L1 with it. */
  beforeApplicationShutdown(): void {
    this.store.stop();
  }

  /** True while L1 is in use (the invalidation feed is subscribed and complete). */
  get l1InUse(): boolean {
    return this.store.l1InUse;
  }

  /**
   * Runs `task` to fill the cache once across all instances calling warm
   * with this `name` (run-once of the lock lib): one runs it, the others wait
   * for it to finish; instances starting within `doneTtlMs` of a finished run
   * skip it. Rejects with the task's error on the instance that ran it.
   */
  warm(
    name: string,
    task: (signal: AbortSignal) => Promise<void>,
    options: { doneTtlMs?: number } = {},
  ): Promise<void> {
    return this.locks.runOnce(`cache-warm:${name}`, (signal) => task(signal), {
      doneTtlMs: options.doneTtlMs ?? CACHE_DEFAULTS.warmDoneTtlMs,
    });
  }
}
