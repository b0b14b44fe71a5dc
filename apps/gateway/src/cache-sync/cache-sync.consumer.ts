import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Counter } from 'prom-client';
import { LatticeError } from '@lattice/common';
import { MetricsService } from '@lattice/observability';
import {
  REDIS_STARTUP_WAIT_MS,
  RedisService,
  type RedisClient,
  type RedisScript,
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

type Fields = string[];
type StreamReply = [stream: string, entries: [id: string, fields: Fields][]][] | null;
type PendingEntry = [id: string, consumer: string, idleMs: number, deliveries: number];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function field(fields: Fields, name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Reads `cache-sync:events` with the consumer group `cache-sync`, so each
 * event is applied by one gateway instance (CONTRACT 6):
 *
 * - an event is acknowledged only after it was applied;
 * - one that can never be applied (invalid, refused URL, blob too large or
 *   answered 4xx) goes to `cache-sync:dead` with its reason, and is
 *   acknowledged in the same script;
 * - one that failed for a passing reason (Redis, a blob 5xx, a timeout) stays
 *   pending and is tried again once it has been idle for `claimIdleMs`, by
 *   whichever instance looks first — which is also how the events of a
 *   consumer that died before acknowledging are taken over;
 * - after `maxDeliveries` deliveries an event goes to the dead letters.
 *
 * Delivery is at least once: an instance that dies after applying an event
 * but before acknowledging it leaves it to be applied again (SET, DELETE and
 * DELETE_PATTERN are idempotent).
 */
@Injectable()
export class CacheSyncConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('CacheSyncConsumer');
  /** Unique per process, and says which process it is: `<host>:<pid>:<random>`. */
  readonly name = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly eventsKey: string;
  private readonly deadKey: string;
  private readonly settings: Required<NonNullable<CacheSyncOptions['consumer']>>;
  private readonly deadScript: RedisScript<number>;
  private readonly deadLetters: Counter<'code'>;
  private readonly claimed: Counter<string>;
  private connection?: RedisClient;
  private running?: Promise<void>;
  private stopping = false;
  private groupReady = false;
  private lastClaim = 0;
  private lastHousekeeping = 0;
  private failing = false;

  constructor(
    private readonly redis: RedisService,
    private readonly sync: CacheSyncService,
    metrics: MetricsService,
    @Inject(CACHE_SYNC_OPTIONS) options: CacheSyncOptions,
  ) {
    this.eventsKey = redis.isCluster ? CLUSTER_EVENTS_STREAM : EVENTS_STREAM;
    this.deadKey = redis.isCluster ? CLUSTER_DEAD_STREAM : DEAD_STREAM;
    this.settings = { ...CONSUMER_DEFAULTS, ...options.consumer };
    this.deadScript = redis.script<number>(join(__dirname, 'cache-sync-dead.lua'), 2);
    this.deadLetters = metrics.counter(
      'lattice_cache_sync_dead_letters_total',
      'Stream events moved to the dead letters, by code',
      ['code'],
    );
    this.claimed = metrics.counter(
      'lattice_cache_sync_claimed_total',
      'Pending stream events taken over after being idle (a dead consumer, or a retry)',
    );
  }

  onApplicationBootstrap(): void {
    this.connection = this.redis.createBlockingConnection('cache-sync');
    this.running = this.loop(this.connection);
  }

  /** Stops reading; an event being applied is finished (and acknowledged) first. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.connection?.disconnect();
    await this.running;
  }

  private async loop(connection: RedisClient): Promise<void> {
    let backoff = 100;
    // Connections still being made at start-up are not an outage: read once they are ready.
    await Promise.all([
      this.redis.whenReady(REDIS_STARTUP_WAIT_MS),
      this.redis.whenReady(REDIS_STARTUP_WAIT_MS, connection),
    ]);
    while (!this.stopping) {
      try {
        if (!this.groupReady) await this.createGroup();
        const now = Date.now();
        if (now - this.lastClaim >= this.settings.blockMs) {
          this.lastClaim = now;
          await this.reclaim();
        }
        if (now - this.lastHousekeeping >= this.settings.housekeepingMs) {
          this.lastHousekeeping = now;
          await this.housekeeping();
        }
        const reply = (await connection.xreadgroup(
          'GROUP',
          CONSUMER_GROUP,
          this.name,
          'COUNT',
          this.settings.batch,
          'BLOCK',
          this.settings.blockMs,
          'STREAMS',
          this.eventsKey,
          '>',
        )) as StreamReply;
        // Entries read are pending on this consumer: apply them all, even when stopping.
        for (const [id, fields] of reply?.[0]?.[1] ?? []) await this.process(id, fields, 1);
        if (this.failing) this.logger.log('Reading cache-sync events again');
        this.failing = false;
        backoff = 100;
      } catch (error) {
        if (this.stopping) break;
        if (/NOGROUP/.test(String(error))) {
          // The stream or group went away (Redis restarted empty, or the key was deleted).
          this.groupReady = false;
          continue;
        }
        if (!this.failing) this.logger.warn(`Cannot read cache-sync events: ${String(error)}`);
        this.failing = true;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  private async createGroup(): Promise<void> {
    try {
      // From 0: events written before any gateway ever ran are applied too.
      await this.redis.client.xgroup('CREATE', this.eventsKey, CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test(String(error))) throw error;
    }
    this.groupReady = true;
  }

  /** Takes over events that have been pending (on any consumer, this one included) for claimIdleMs. */
  private async reclaim(): Promise<void> {
    const pending = (await this.redis.client.xpending(
      this.eventsKey,
      CONSUMER_GROUP,
      'IDLE',
      this.settings.claimIdleMs,
      '-',
      '+',
      this.settings.batch,
    )) as PendingEntry[];
    for (const [id, owner, idleMs, deliveries] of pending) {
      if (this.stopping) return;
      // XCLAIM checks the idle time again, so two instances never both take one event.
      const claimed = (await this.redis.client.call(
        'XCLAIM',
        this.eventsKey,
        CONSUMER_GROUP,
        this.name,
        this.settings.claimIdleMs,
        id,
      )) as [string, Fields | null][];
      if (claimed.length === 0) continue;
      const [entryId, fields] = claimed[0];
      if (!fields) {
        // Trimmed from the stream while pending: there is nothing left to apply.
        await this.redis.client.xack(this.eventsKey, CONSUMER_GROUP, id);
        continue;
      }
      this.claimed.inc();
      if (owner !== this.name) {
        this.logger.warn(`Took over event ${id} from consumer ${owner} (pending ${idleMs} ms)`);
      }
      await this.process(entryId, fields, deliveries + 1);
    }
  }

  private async process(id: string, fields: Fields, deliveries: number): Promise<void> {
    const raw = field(fields, 'event');
    if (deliveries > this.settings.maxDeliveries) {
      return this.bury(
        id,
        raw,
        'TOO_MANY_DELIVERIES',
        `delivered ${deliveries - 1} times without being applied`,
        deliveries,
      );
    }
    if (raw === undefined) {
      return this.bury(
        id,
        raw,
        'INVALID_EVENT',
        'the stream entry has no "event" field',
        deliveries,
      );
    }
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch {
      return this.bury(id, raw, 'INVALID_EVENT', 'the "event" field is not valid JSON', deliveries);
    }
    try {
      await this.sync.handle(input, 'stream');
    } catch (error) {
      const code = error instanceof LatticeError ? error.code : 'INTERNAL';
      const reason =
        error instanceof LatticeError
          ? error.message
          : 'Something went wrong while applying the event';
      if (!(error instanceof LatticeError))
        this.logger.error({ err: error }, `Applying event ${id} failed`);
      const permanent = (error as { permanent?: unknown }).permanent === true;
      if (permanent || deliveries >= this.settings.maxDeliveries) {
        return this.bury(id, raw, code, reason, deliveries);
      }
      this.logger.warn(
        `Event ${id} not applied (${code}: ${reason}); it is retried in ${this.settings.claimIdleMs} ms`,
      );
      return;
    }
    try {
      await this.redis.client.xack(this.eventsKey, CONSUMER_GROUP, id);
    } catch (error) {
      // Applied but still pending: it will be applied again, which events tolerate.
      this.logger.warn(`Event ${id} applied but not acknowledged: ${String(error)}`);
    }
  }

  private async bury(
    id: string,
    raw: string | undefined,
    code: string,
    reason: string,
    deliveries: number,
  ): Promise<void> {
    try {
      await this.deadScript.run(
        [this.eventsKey, this.deadKey],
        [
          CONSUMER_GROUP,
          id,
          this.settings.deadMaxLen,
          'event',
          raw ?? '',
          'reason',
          reason,
          'code',
          code,
          'id',
          id,
          'consumer',
          this.name,
          'deliveries',
          deliveries,
          'failedAt',
          new Date().toISOString(),
        ],
      );
      this.deadLetters.inc({ code });
      this.logger.warn(`Event ${id} moved to ${this.deadKey}: ${code}: ${reason}`);
    } catch (error) {
      this.logger.warn(`Event ${id} could not be moved to the dead letters yet: ${String(error)}`);
    }
  }

  /** Keeps the streams bounded and the group's consumer list short. */
  private async housekeeping(): Promise<void> {
    await this.redis.client.xtrim(this.eventsKey, 'MAXLEN', '~', this.settings.eventsMaxLen);
    const consumers = (await this.redis.client.xinfo(
      'CONSUMERS',
      this.eventsKey,
      CONSUMER_GROUP,
    )) as (string | number)[][];
    for (const entry of consumers) {
      const info = new Map<string, string | number>();
      for (let i = 0; i + 1 < entry.length; i += 2) info.set(String(entry[i]), entry[i + 1]);
      const name = String(info.get('name'));
      if (
        name !== this.name &&
        Number(info.get('pending')) === 0 &&
        Number(info.get('idle')) > this.settings.forgetConsumerAfterMs
      ) {
        await this.redis.client.xgroup('DELCONSUMER', this.eventsKey, CONSUMER_GROUP, name);
      }
    }
  }
}
