import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RedisService } from '@lattice/redis';
import { RealtimeUnavailableError } from './realtime.errors';

async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch {
    throw new RealtimeUnavailableError();
  }
}

/**
 * What a disconnected socket left behind for its recovery: its user, its
 * channels with the offsets the client is known to have, and the events it
 * was sent last, in order (`channel offset` each), so that the offset the
 * client reports on reconnecting tells how far it got in every channel.
 */
export interface RecoveryRecord {
  sid: string;
  userId: string;
  /** The token of the connection's first packet: a client that reports it received nothing after it. */
  marker: string;
  channels: {
    channel: string;
    meta: Record<string, unknown> | null;
    /** The offset the client had before any event of `sent`: its join's, or its last recovery's. */
    from: string;
    /** The greatest offset of the channel among events sent before `sent` begins ('' for none). */
    floor: string;
  }[];
  /** The last events sent, oldest first, as [channel, offset]. */
  sent: [string, string][];
}

/**
 * `realtime:recovery:<sha256 of the private id>` → the record JSON, for
 * REALTIME_RECOVERY_MS. The private id (Socket.IO's `pid`) is a secret of the
 * client, so it is kept only hashed; a record is taken once.
 */
export const recoveryKey = (pid: string): string =>
  `realtime:recovery:${createHash('sha256').update(pid).digest('hex')}`;

@Injectable()
export class RecoveryRepository {
  constructor(private readonly redis: RedisService) {}

  async save(pid: string, record: RecoveryRecord, ttlMs: number): Promise<void> {
    await orUnavailable(() =>
      this.redis.client.set(recoveryKey(pid), JSON.stringify(record), 'PX', ttlMs),
    );
  }

  /** The record of `pid`, removed as it is read; null when there is none (any more). */
  async take(pid: string): Promise<RecoveryRecord | null> {
    const raw = await orUnavailable(() => this.redis.client.getdel(recoveryKey(pid)));
    return raw === null ? null : (JSON.parse(raw) as RecoveryRecord);
  }
}
