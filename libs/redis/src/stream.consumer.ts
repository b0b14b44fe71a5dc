import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { LatticeError } from '@lattice/common';
import type { RedisClient } from './redis-options.factory';
import type { RedisScript } from './redis.script';
import { REDIS_STARTUP_WAIT_MS, type RedisService } from './redis.service';
import { StreamEntryRejectedError } from './stream.errors';

type Fields = string[];
type StreamReply = [stream: string, entries: [id: string, fields: Fields][]][] | null;
type PendingEntry = [id: string, consumer: string, idleMs: number, deliveries: number];

/** How a consumer reads, retries, buries and tidies; see {@link StreamConsumer}. */
export interface StreamConsumerSettings {
  /** Entries read per XREADGROUP. */
  batch: number;
  /** How long one XREADGROUP blocks; also how often pending entries are looked at. */
  blockMs: number;
  /**
   * A pending entry idle for this long is taken over from its consumer. It
   * must exceed the longest an entry can take to handle, or a slow but live
   * consumer would lose it.
   */
  claimIdleMs: number;
  /** After this many deliveries without being handled, an entry goes to the dead letters. */
  maxDeliveries: number;
  /** Approximate caps (MAXLEN ~) on the stream and on its dead letters. */
  streamMaxLen: number;
  deadMaxLen: number;
  /** Consumers of the group with nothing pending and idle this long are removed. */
  forgetConsumerAfterMs: number;
  /** Housekeeping (trim, forget consumers) at most this often. */
  housekeepingMs: number;
}

/** One stream entry as the handler sees it. */
export interface StreamEntry {
  readonly id: string;
  /** The entry's fields and values, alternating, as XADD wrote them. */
  readonly fields: readonly string[];
  /** 1 on the first delivery, more when the entry is retried or taken over. */
  readonly deliveries: number;
}

export interface StreamConsumerOptions extends StreamConsumerSettings {
  /** Names the connection, and the entries in log lines ("Cannot read <entries>: …"). */
  purpose: string;
  entries: string;
  /** The stream, its dead-letter stream (one slot on a Cluster: hash-tag both) and the group. */
  stream: string;
  deadStream: string;
  group: string;
  /**
   * Handles one entry; the entry is acknowledged once this resolves. Throw
   * {@link StreamEntryRejectedError} for an entry that can never be handled
   * (it goes to the dead letters at once); any other error leaves it pending,
   * to be tried again after `claimIdleMs`.
   */
  handle(entry: StreamEntry): Promise<void>;
  /** Told of each entry moved to the dead letters (by code), and of each entry taken over. */
  onDeadLetter?(code: string): void;
  onClaim?(): void;
}

/** The value of `name` in a stream entry's fields. */
export function streamField(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads a Redis stream with a consumer group, so each entry is handled by one
 * of the processes that read it:
 *
 * - an entry is acknowledged only after it was handled;
 * - one that can never be handled goes to the dead-letter stream with its
 *   code, reason, id, consumer, deliveries and time beside its own fields,
 *   and is acknowledged in the same script;
 * - one that failed for a passing reason stays pending and is tried again
 *   once it has been idle for `claimIdleMs`, by whichever consumer looks
 *   first — which is also how the entries of a consumer that died before
 *   acknowledging are taken over;
 * - after `maxDeliveries` deliveries an entry goes to the dead letters;
 * - the stream is trimmed, idle consumers are forgotten, and a stream or
 *   group that went away (Redis restarted empty) is made again.
 *
 * Delivery is at least once: a process that dies after handling an entry but
 * before acknowledging it leaves it to be handled again.
 */
export class StreamConsumer {
  /** Unique per process, and says which process it is: `<host>:<pid>:<random>`. */
  readonly name = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly logger: Logger;
  private readonly deadScript: RedisScript<number>;
  private connection?: RedisClient;
  private running?: Promise<void>;
  private stopping = false;
  private groupReady = false;
  private lastClaim = 0;
  private lastHousekeeping = 0;
  private failing = false;

  constructor(
    private readonly redis: RedisService,
    private readonly options: StreamConsumerOptions,
  ) {
    this.logger = new Logger(`StreamConsumer:${options.purpose}`);
    this.deadScript = redis.script<number>(join(__dirname, 'stream-dead-letter.lua'), 2);
  }

  start(): void {
    this.connection = this.redis.createBlockingConnection(this.options.purpose);
    this.running = this.loop(this.connection);
  }

  /** Stops reading; an entry being handled is finished (and acknowledged) first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.connection?.disconnect();
    await this.running;
  }

  private async loop(connection: RedisClient): Promise<void> {
    const { batch, blockMs, housekeepingMs, stream, group, entries } = this.options;
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
        if (now - this.lastClaim >= blockMs) {
          this.lastClaim = now;
          await this.reclaim();
        }
        if (now - this.lastHousekeeping >= housekeepingMs) {
          this.lastHousekeeping = now;
          await this.housekeeping();
        }
        const reply = (await connection.xreadgroup(
          'GROUP',
          group,
          this.name,
          'COUNT',
          batch,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          '>',
        )) as StreamReply;
        // Entries read are pending on this consumer: handle them all, even when stopping.
        for (const [id, fields] of reply?.[0]?.[1] ?? []) await this.process(id, fields, 1);
        if (this.failing) this.logger.log(`Reading ${entries} again`);
        this.failing = false;
        backoff = 100;
      } catch (error) {
        if (this.stopping) break;
        if (/NOGROUP/.test(String(error))) {
          // The stream or group went away (Redis restarted empty, or the key was deleted).
          this.groupReady = false;
          continue;
        }
        if (!this.failing) this.logger.warn(`Cannot read ${entries}: ${String(error)}`);
        this.failing = true;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  private async createGroup(): Promise<void> {
    try {
      // From 0: entries written before any consumer ever ran are handled too.
      await this.redis.client.xgroup(
        'CREATE',
        this.options.stream,
        this.options.group,
        '0',
        'MKSTREAM',
      );
    } catch (error) {
      if (!/BUSYGROUP/.test(String(error))) throw error;
    }
    this.groupReady = true;
  }

  /** Takes over entries that have been pending (on any consumer, this one included) for claimIdleMs. */
  private async reclaim(): Promise<void> {
    const { stream, group, claimIdleMs, batch } = this.options;
    const client = this.redis.client;
    const pending = (await client.xpending(
      stream,
      group,
      'IDLE',
      claimIdleMs,
      '-',
      '+',
      batch,
    )) as PendingEntry[];
    for (const [id, owner, idleMs, deliveries] of pending) {
      if (this.stopping) return;
      // XCLAIM checks the idle time again, so two consumers never both take one entry.
      const claimed = (await client.call('XCLAIM', stream, group, this.name, claimIdleMs, id)) as [
        string,
        Fields | null,
      ][];
      if (claimed.length === 0) continue;
      const [entryId, fields] = claimed[0];
      if (!fields) {
        // Trimmed from the stream while pending: there is nothing left to handle.
        await client.xack(stream, group, id);
        continue;
      }
      this.options.onClaim?.();
      if (owner !== this.name) {
        this.logger.warn(`Took over entry ${id} from consumer ${owner} (pending ${idleMs} ms)`);
      }
      await this.process(entryId, fields, deliveries + 1);
    }
  }

  private async process(id: string, fields: Fields, deliveries: number): Promise<void> {
    const { maxDeliveries, claimIdleMs, stream, group } = this.options;
    if (deliveries > maxDeliveries) {
      const reason = `delivered ${deliveries - 1} times without being handled`;
      return this.bury(id, fields, 'TOO_MANY_DELIVERIES', reason, deliveries);
    }
    try {
      await this.options.handle({ id, fields, deliveries });
    } catch (error) {
      if (error instanceof StreamEntryRejectedError) {
        return this.bury(id, fields, error.code, error.message, deliveries);
      }
      const known = error instanceof LatticeError;
      if (!known) this.logger.error({ err: error }, `Handling entry ${id} failed`);
      const code = known ? error.code : 'INTERNAL';
      const reason = known ? error.message : 'Something went wrong while handling the entry';
      if (deliveries >= maxDeliveries) return this.bury(id, fields, code, reason, deliveries);
      this.logger.warn(
        `Entry ${id} not handled (${code}: ${reason}); it is retried in ${claimIdleMs} ms`,
      );
      return;
    }
    try {
      await this.redis.client.xack(stream, group, id);
    } catch (error) {
      // Handled but still pending: it will be handled again, which consumers must tolerate.
      this.logger.warn(`Entry ${id} handled but not acknowledged: ${String(error)}`);
    }
  }

  private async bury(
    id: string,
    fields: Fields,
    code: string,
    reason: string,
    deliveries: number,
  ): Promise<void> {
    const { stream, deadStream, group, deadMaxLen } = this.options;
    try {
      await this.deadScript.run(
        [stream, deadStream],
        [
          group,
          id,
          deadMaxLen,
          ...fields,
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
      this.options.onDeadLetter?.(code);
      this.logger.warn(`Entry ${id} moved to ${deadStream}: ${code}: ${reason}`);
    } catch (error) {
      this.logger.warn(`Entry ${id} could not be moved to the dead letters yet: ${String(error)}`);
    }
  }

  /** Keeps the streams bounded and the group's consumer list short. */
  private async housekeeping(): Promise<void> {
    const { stream, group, streamMaxLen, forgetConsumerAfterMs } = this.options;
    const client = this.redis.client;
    await client.xtrim(stream, 'MAXLEN', '~', streamMaxLen);
    const consumers = (await client.xinfo('CONSUMERS', stream, group)) as (string | number)[][];
    for (const entry of consumers) {
      const info = new Map<string, string | number>();
      for (let i = 0; i + 1 < entry.length; i += 2) info.set(String(entry[i]), entry[i + 1]);
      const name = String(info.get('name'));
      if (
        name !== this.name &&
        Number(info.get('pending')) === 0 &&
        Number(info.get('idle')) > forgetConsumerAfterMs
      ) {
        await client.xgroup('DELCONSUMER', stream, group, name);
      }
    }
  }
}
