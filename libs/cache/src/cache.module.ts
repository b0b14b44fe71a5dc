import { Module, type DynamicModule } from '@nestjs/common';
import { LockModule, LockService } from '@lattice/lock';
import { MetricsModule, MetricsService } from '@lattice/observability';
import { RedisModule, RedisService } from '@lattice/redis';
import { CACHE_OPTIONS, CACHE_WARMERS } from './cache.di-tokens';
import { CacheRootModule } from './cache-root.module';
import { CacheService } from './cache.service';
import { CacheStore } from './cache.store';
import { CacheWarmup } from './cache-warmup.service';
import { storeSettings, type CacheModuleOptions } from './cache-module.options';
import type { CacheWarmer } from './cache-warmer.types';

/**
 * CacheService for the modules that import this one: a static module, so
 * every import shares the app's one cache. The app sets the options (and its
 * warmers) once at its root with `CacheModule.forRoot(options)`; without it
 * the defaults apply. CacheStore (the tiers, the bus, the loads) is a
 * provider of its own, so a test can replace it.
 */
@Module({
  imports: [RedisModule, MetricsModule, LockModule],
  providers: [
    {
      provide: CacheStore,
      inject: [RedisService, LockService, MetricsService, { token: CACHE_OPTIONS, optional: true }],
      useFactory: (
        redis: RedisService,
        locks: LockService,
        metrics: MetricsService,
        options: CacheModuleOptions | undefined,
      ) => new CacheStore(redis, locks, metrics, storeSettings(options ?? {})),
    },
    CacheService,
  ],
  exports: [CacheService],
})
export class CacheModule {
  /** The app's cache options and warmers; import it once, at the root (beside CacheModule where used). */
  static forRoot(options: CacheModuleOptions = {}): DynamicModule {
    const warmers = options.warmers ?? [];
    return {
      module: CacheRootModule,
      // Global for its one provider, CACHE_OPTIONS: the options are the app's,
      // given once at its root, and CacheModule (imported by every user of
      // CacheService) must read them without importing the root.
      global: true,
      imports: [CacheModule, ...(options.imports ?? [])],
      providers: [
        { provide: CACHE_OPTIONS, useValue: options },
        ...warmers,
        {
          provide: CACHE_WARMERS,
          useFactory: (...instances: CacheWarmer[]) => instances,
          inject: warmers,
        },
        CacheWarmup,
      ],
      exports: [CACHE_OPTIONS],
    };
  }
}
