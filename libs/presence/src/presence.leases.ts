/* eslint-disable no-restricted-syntax -- this file is the repository of the workers' leases */
import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, type RedisScript } from '@lattice/redis';
import { orUnavailable } from './presence-unavailable';
import { LEASES_KEY, REAPED_KEY, workerChannelsKey } from './presence-keys';
import { PresenceStore } from './presence.store';
import type { PresenceChange } from './presence.types';

/** Connections popped per script call while sweeping: short scripts, few round trips. */
const SWEEP_BATCH = 500;
/** Channels of one dead worker swept side by side. */
const SWEEP_PARALLEL = 16;
/** Most lapsed workers handed to one reaper per pass. */
const CLAIM_LIMIT = 50;

/**
 * Worker leases and the index of each worker's channels: what lets the
 * surviving workers find and remove the connections of a worker that died.
 */
@Injectable()
export class PresenceLeases {
  private readonly renewScript: RedisScript<number>;
  private readonly claimScript: RedisScript<string[]>;

  constructor(
    private readonly redis: RedisService,
    private readonly store: PresenceStore,
  ) {
    this.renewScript = redis.script(join(__dirname, 'lease-renew.lua'), 2);
    this.claimScript = redis.script(join(__dirname, 'lease-claim.lua'), 2);
  }

  private get timings() {
    return this.store.timings;
  }

  /**
   * Takes (`isNew`) or renews a worker's lease. False when it has lapsed or
   * the id was used before: the worker must come back under a new id.
   */
  async renew(workerId: string, isNew: boolean): Promise<boolean> {
    const expiry = await orUnavailable(() =>
      this.renewScript.run(
        [LEASES_KEY, REAPED_KEY],
        [workerId, this.timings.leaseMs, this.timings.keyTtlMs, isNew ? '1' : '0'],
      ),
    );
    return Number(expiry) > 0;
  }

  /** Records that the worker has connections in `channel`, before it writes any there. */
  async indexChannel(workerId: string, channel: string): Promise<void> {
    const key = workerChannelsKey(workerId);
    await orUnavailable(() =>
      this.redis.client.multi().sadd(key, channel).pexpire(key, this.timings.keyTtlMs).exec(),
    );
  }

  /** The worker holds no connection in `channel` any more. */
  async unindexChannel(workerId: string, channel: string): Promise<void> {
    await orUnavailable(() => this.redis.client.srem(workerChannelsKey(workerId), channel));
  }

  /** Keeps the worker's channel index alive. */
  async touchIndex(workerId: string): Promise<void> {
    await orUnavailable(() =>
      this.redis.client.pexpire(workerChannelsKey(workerId), this.timings.keyTtlMs),
    );
  }

  /**
   * Lapsed workers this reaper must sweep now, and workers due their final
   * sweep. Each lapsed worker is handed to one reaper only.
   */
  async claim(): Promise<{ lapsed: string[]; due: string[] }> {
    const ids = await orUnavailable(() =>
      this.claimScript.run(
        [LEASES_KEY, REAPED_KEY],
        [this.timings.graceMs, CLAIM_LIMIT, this.timings.keyTtlMs],
      ),
    );
    const split = ids.indexOf('');
    return { lapsed: ids.slice(0, split), due: ids.slice(split + 1) };
  }

  /**
   * Removes every connection a worker left in Redis, channel by channel (the
   * channels' members are told by the scripts). Returns the presence changes,
   * or calls `onChanges` with them as they come when given.
   */
  async sweep(workerId: string, onChanges?: (changes: PresenceChange[]) => void): Promise<number> {
    let changed = 0;
    const sweepChannel = async (channel: string) => {
      let remaining = 1;
      while (remaining > 0) {
        const result = await this.store.reap(channel, workerId, SWEEP_BATCH);
        remaining = result.remaining;
        changed += result.changes.length;
        if (result.changes.length) onChanges?.(result.changes);
      }
    };
    const index = workerChannelsKey(workerId);
    let cursor = '0';
    do {
      const [next, channels] = await orUnavailable(() =>
        this.redis.client.sscan(index, cursor, 'COUNT', 256),
      );
      cursor = next;
      for (let i = 0; i < channels.length; i += SWEEP_PARALLEL) {
        await Promise.all(channels.slice(i, i + SWEEP_PARALLEL).map(sweepChannel));
      }
    } while (cursor !== '0');
    return changed;
  }

  /** Forgets a worker whose connections are all gone: its lease and its index. */
  async forget(workerId: string): Promise<void> {
    await orUnavailable(() =>
      this.redis.client.multi().zrem(LEASES_KEY, workerId).zrem(REAPED_KEY, workerId).exec(),
    );
    await orUnavailable(() => this.redis.client.unlink(workerChannelsKey(workerId)));
  }
}
