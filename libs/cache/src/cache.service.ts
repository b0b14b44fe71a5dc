import { Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LockService } from '@lattice/lock';
import { CACHE_DEFAULTS } from './cache.constants';
import { CacheNamespace } from './cache.namespace';
import { CacheStore } from './cache.store';

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
    store: CacheStore,
    private readonly locks: LockService,
  ) {
    super(store, '');
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
