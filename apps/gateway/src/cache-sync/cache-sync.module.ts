import { Module, type DynamicModule } from '@nestjs/common';
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
 * Needs CacheModule, and SessionModule for admin callers.
 */
@Module({})
export class CacheSyncModule {
  static forRoot(options: CacheSyncOptions = {}): DynamicModule {
    return {
      module: CacheSyncModule,
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
