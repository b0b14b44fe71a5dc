import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RedisService } from '@lattice/redis';
import { RealtimeUnavailableError } from './realtime.errors';

/** Records whose expiry is pushed forward side by side. */
const TOUCH_BATCH = 500;

async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch {
    throw new RealtimeUnavailableError();
  }
}

/**
 * What a socket's recovery needs beside the position its client reports: its
 * user and its channels with their `meta`, each with the id the socket's
 * positions name it by (DeliveryState). Written at each change of its
 * channels, before the change is acknowledged, so it is there even when the
 * socket's instance is killed.
 */
export interface RecoveryRecord {
  sid: string;
  userId: string;
  channels: { channel: string; id: number; meta: Record<string, unknown> | null }[];
}

/**
 * `realtime:recovery:<sha256 of the private id>` → the record JSON. While its
 * socket is connected its instance keeps pushing the expiry forward; from its
 * last push (the instance was killed) or the socket's drop, it lives at least
 * REALTIME_RECOVERY_MS. The private id (Socket.IO's `pid`) is a secret of the
 * client, so it is kept only hashed. A recovery takes the record and writes it
 * again for the socket's new life.
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

  /** Pushes the expiry of live sockets' records forward (sent together; keys of any slot). */
  async touch(pids: readonly string[], ttlMs: number): Promise<void> {
    for (let i = 0; i < pids.length; i += TOUCH_BATCH) {
      const keys = pids.slice(i, i + TOUCH_BATCH).map(recoveryKey);
      await orUnavailable(() =>
        Promise.all(keys.map((key) => this.redis.client.pexpire(key, ttlMs))),
      );
    }
  }

  async remove(pid: string): Promise<void> {
    await orUnavailable(() => this.redis.client.del(recoveryKey(pid)));
  }

  /** The record of `pid`, removed as it is read; null when there is none (any more). */
  async take(pid: string): Promise<RecoveryRecord | null> {
    const raw = await orUnavailable(() => this.redis.client.getdel(recoveryKey(pid)));
    return raw === null ? null : (JSON.parse(raw) as RecoveryRecord);
  }
}
