import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule } from '@lattice/cache';
import { MetricsModule } from '@lattice/observability';
import { RedisModule } from '@lattice/redis';
import { BlobFetcher } from './blob.fetcher';
import { CacheSyncConsumer } from './cache-sync.consumer';
import { CacheSyncController } from './cache-sync.controller';
import { CACHE_SYNC_OPTIONS } from './cache-sync.di-tokens';
import { CacheSyncGuard } from './cache-sync.guard';
import { CacheSyncService } from './cache-sync.service';
import type { CacheSyncOptions } from './cache-sync.types';

/**
 * Cache-sync (CONTRACT 6): POST /api/cache/events and the consumer of the
 * `cache-sync:events` stream, both applying events through CacheService.
 * Admin callers are known by the session the platform resolved before guards.
 */
@Module({})
export class CacheSyncModule {
  static forRoot(options: CacheSyncOptions = {}): DynamicModule {
    return {
      module: CacheSyncModule,
      imports: [CacheModule, RedisModule, MetricsModule],
      controllers: [CacheSyncController],
      providers: [
        { provide: CACHE_SYNC_OPTIONS, useValue: options },
        BlobFetcher,
        CacheSyncService,
        CacheSyncGuard,
        CacheSyncConsumer,
      ],
    };
  }
}
