import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { CacheService } from '@lattice/cache';
import { LatticeError } from '@lattice/common';
import { MetricsService } from '@lattice/observability';
import { BlobFetcher } from './blob.fetcher';
import { parseCacheEvent, type CacheEvent } from './cache-event.schema';

/** What an event answers (CONTRACT 6); a GET of bytes also says `encoding: "base64"`. */
export type CacheEventResult =
  | { key: string; stored: true }
  | { key: string; hit: boolean; value: unknown; encoding?: 'base64' }
  | { deleted: number };

export type EventSource = 'http' | 'stream';

/**
 * Applies cache-sync events to the platform cache (libs/cache), so every
 * change goes through the invalidation bus and reaches every gateway
 * instance's L1. Event keys are keys of the cache's root namespace
 * (`cache:<key>` in Redis), so an event can never touch other state.
 */
@Injectable()
export class CacheSyncService {
  private readonly logger = new Logger('CacheSync');
  private readonly events: Counter<'type' | 'source' | 'outcome'>;

  constructor(
    private readonly cache: CacheService,
    private readonly blobs: BlobFetcher,
    metrics: MetricsService,
  ) {
    this.events = metrics.counter(
      'lattice_cache_sync_events_total',
      'Cache-sync events, by type, source and outcome (applied, refused, failed)',
      ['type', 'source', 'outcome'],
    );
  }

  /** Validates and applies one event; throws a LatticeError saying why when it cannot. */
  async handle(input: unknown, source: EventSource): Promise<CacheEventResult> {
    let event: CacheEvent;
    try {
      event = parseCacheEvent(input);
    } catch (error) {
      this.events.inc({ type: 'INVALID', source, outcome: 'refused' });
      throw error;
    }
    try {
      const result = await this.apply(event);
      this.events.inc({ type: event.type, source, outcome: 'applied' });
      return result;
    } catch (error) {
      const refused = error instanceof LatticeError && error.status < 500;
      this.events.inc({ type: event.type, source, outcome: refused ? 'refused' : 'failed' });
      throw error;
    }
  }

  async apply(event: CacheEvent): Promise<CacheEventResult> {
    switch (event.type) {
      case 'SET': {
        // Jitter is for entries that loaders refill; an event's TTL is an instruction, kept exact.
        const options = { ttl: event.ttl, jitter: 0 };
        if ('url' in event) {
          const blob = await this.blobs.fetch(event.url);
          await this.cache.set(event.key, blob.kind === 'text' ? blob.text : blob.bytes, options);
          this.logger.log(
            `SET ${event.key} from a blob (${blob.kind}, ${blob.contentType || 'no content type'})`,
          );
        } else {
          await this.cache.set(event.key, event.value, options);
        }
        return { key: event.key, stored: true };
      }
      case 'GET': {
        const value = await this.cache.get(event.key);
        if (Buffer.isBuffer(value)) {
          return { key: event.key, hit: true, value: value.toString('base64'), encoding: 'base64' };
        }
        return {
          key: event.key,
          hit: value !== undefined,
          value: value === undefined ? null : value,
        };
      }
      case 'DELETE':
        return { deleted: await this.cache.delete(event.keys) };
      case 'DELETE_PATTERN': {
        const deleted = await this.cache.deletePattern(event.pattern);
        this.logger.log(`DELETE_PATTERN ${event.pattern}: ${deleted} deleted`);
        return { deleted };
      }
    }
  }
}
