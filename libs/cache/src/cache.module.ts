import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CACHE_OPTIONS, CACHE_WARMERS } from './cache.di-tokens';
import { CacheService } from './cache.service';
import { CacheWarmup } from './cache-warmup.service';
import type { CacheModuleOptions } from './cache-module.options';
import type { CacheWarmer } from './cache-warmer.types';

/**
 * Provides CacheService to the whole app. Needs RedisService, MetricsService
 * and LockService (PlatformModule carries all three). Warmers listed in the
 * options are instantiated here (they may inject any global provider) and run
 * once across instances after start-up; a feature module can also call
 * `CacheService.warm()` itself.
 */
@Global()
@Module({})
export class CacheModule {
  static forRoot(options: CacheModuleOptions = {}): DynamicModule {
    const warmers = options.warmers ?? [];
    return {
      module: CacheModule,
      providers: [
        { provide: CACHE_OPTIONS, useValue: options },
        ...warmers,
        {
          provide: CACHE_WARMERS,
          useFactory: (...instances: CacheWarmer[]) => instances,
          inject: warmers,
        },
        CacheService,
        CacheWarmup,
      ],
      exports: [CacheService],
    };
  }
}
