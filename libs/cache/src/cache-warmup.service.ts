import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { LockNotAcquiredError } from '@lattice/lock';
import { CACHE_WARMERS } from './cache.di-tokens';
import { CacheService } from './cache.service';
import type { CacheWarmer } from './cache-warmer.types';

/**
 * Runs the module's warmers once the app has started. Not awaited: an app
 * starts and serves (reading through to the loaders) even while Redis is down
 * or a warm-up is slow.
 */
@Injectable()
export class CacheWarmup implements OnApplicationBootstrap {
  private readonly logger = new Logger('CacheWarmup');

  constructor(
    private readonly cache: CacheService,
    @Inject(CACHE_WARMERS) private readonly warmers: CacheWarmer[],
  ) {}

  onApplicationBootstrap(): void {
    for (const warmer of this.warmers) void this.run(warmer);
  }

  private async run(warmer: CacheWarmer): Promise<void> {
    try {
      await this.cache.warm(warmer.name, (signal) => warmer.warm(this.cache, signal), {
        doneTtlMs: warmer.doneTtlMs,
      });
    } catch (error) {
      // Shutting down before it ran is no failure.
      if (error instanceof LockNotAcquiredError && error.reason === 'aborted') return;
      this.logger.error(`Warming "${warmer.name}" failed: ${String(error)}`);
    }
  }
}
