import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LatticeError } from '@lattice/common';
import { MetricsService } from '@lattice/observability';
import {
  RedisService,
  StreamConsumer,
  StreamEntryRejectedError,
  streamField,
  type StreamEntry,
} from '@lattice/redis';
import {
  CLUSTER_DEAD_STREAM,
  CLUSTER_EVENTS_STREAM,
  CONSUMER_DEFAULTS,
  CONSUMER_GROUP,
  DEAD_STREAM,
  EVENTS_STREAM,
} from './cache-sync.constants';
import { CACHE_SYNC_OPTIONS } from './cache-sync.di-tokens';
import { CacheSyncService } from './cache-sync.service';
import type { CacheSyncOptions } from './cache-sync.types';

/**
 * Reads `cache-sync:events` with the consumer group `cache-sync` (the
 * platform's StreamConsumer), so each event is applied by one gateway
 * instance (CONTRACT 6): acknowledged only after it was applied; one that can
 * never be applied (invalid, refused URL, blob too large or answered 4xx)
 * goes to `cache-sync:dead` with its reason at once; one that failed for a
 * passing reason (Redis, a blob 5xx, a timeout) is tried again, and
 * dead-lettered after `maxDeliveries`. Events are idempotent (SET, DELETE and
 * DELETE_PATTERN), so at-least-once delivery is safe.
 */
@Injectable()
export class CacheSyncConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: StreamConsumer;

  constructor(
    redis: RedisService,
    private readonly sync: CacheSyncService,
    metrics: MetricsService,
    @Inject(CACHE_SYNC_OPTIONS) options: CacheSyncOptions,
  ) {
    const deadLetters = metrics.counter(
      'lattice_cache_sync_dead_letters_total',
      'Stream events moved to the dead letters, by code',
      ['code'],
    );
    const claimed = metrics.counter(
      'lattice_cache_sync_claimed_total',
      'Pending stream events taken over after being idle (a dead consumer, or a retry)',
    );
    this.consumer = new StreamConsumer(redis, {
      ...CONSUMER_DEFAULTS,
      ...options.consumer,
      purpose: 'cache-sync',
      entries: 'cache-sync events',
      stream: redis.isCluster ? CLUSTER_EVENTS_STREAM : EVENTS_STREAM,
      deadStream: redis.isCluster ? CLUSTER_DEAD_STREAM : DEAD_STREAM,
      group: CONSUMER_GROUP,
      handle: (entry) => this.apply(entry),
      onDeadLetter: (code) => deadLetters.inc({ code }),
      onClaim: () => claimed.inc(),
    });
  }

  /** `<host>:<pid>:<random>`, as the group lists it. */
  get name(): string {
    return this.consumer.name;
  }

  onApplicationBootstrap(): void {
    this.consumer.start();
  }

  /** Stops reading; an event being applied is finished (and acknowledged) first. */
  beforeApplicationShutdown(): Promise<void> {
    return this.consumer.stop();
  }

  private async apply({ fields }: StreamEntry): Promise<void> {
    const raw = streamField(fields, 'event');
    if (raw === undefined) {
      throw new StreamEntryRejectedError('INVALID_EVENT', 'the stream entry has no "event" field');
    }
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch {
      throw new StreamEntryRejectedError('INVALID_EVENT', 'the "event" field is not valid JSON');
    }
    try {
      await this.sync.handle(input, 'stream');
    } catch (error) {
      // The cache-sync errors say whether a retry can help.
      if (error instanceof LatticeError && (error as { permanent?: boolean }).permanent) {
        throw new StreamEntryRejectedError(error.code, error.message);
      }
      throw error;
    }
  }
}
