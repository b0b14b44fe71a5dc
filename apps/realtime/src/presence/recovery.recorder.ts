import { Injectable } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import type { DeliveryState } from './delivery.state';
import type { RealtimeConnection } from './realtime.connection';
import { RecoveryRepository, type RecoveryRecord } from './recovery.repository';

/**
 * Keeps each socket's recovery record in Redis for as long as the socket may
 * come back: written at every change of its channels, pushed forward while it
 * is connected, and left to live REALTIME_RECOVERY_MS from its drop, or from
 * the last push when its instance dies. A record Redis refused is written
 * again at the next push or at the drop; until then a recovery may find the
 * old one, and then recovers nothing (the channels disagree) or the old meta.
 */
@Injectable()
export class RecoveryRecorder {
  readonly windowMs: number;
  /** How often connected sockets' records are pushed forward. */
  readonly refreshMs: number;
  /** How long a connected socket's record lives without a push: at least the window after the last one. */
  private readonly liveTtlMs: number;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly repository: RecoveryRepository,
    config: ConfigService,
  ) {
    this.windowMs = config.get('realtime').recoveryMs;
    this.refreshMs = Math.min(Math.max(this.windowMs / 4, 1000), 30_000);
    this.liveTtlMs = this.windowMs + 2 * this.refreshMs;
  }

  /** Whether the socket has a record, or should have one (Redis refused it). */
  has(delivery: DeliveryState): boolean {
    return delivery.record !== 'none';
  }

  /** Writes the socket's record as it stands; never throws (Redis refused: marked stale). */
  async write(connection: RealtimeConnection, delivery: DeliveryState): Promise<void> {
    try {
      await this.repository.save(delivery.pid, recordOf(connection, delivery), this.liveTtlMs);
      delivery.record = 'written';
    } catch {
      delivery.record = 'stale';
    }
  }

  /** A record taken by a recovery, kept again for the socket's new life here. */
  async keepRestored(pid: string, record: RecoveryRecord): Promise<void> {
    await this.repository.save(pid, record, this.liveTtlMs);
  }

  /** Pushes connected sockets' records forward, and writes again those Redis refused. */
  async refresh(live: Iterable<[RealtimeConnection, DeliveryState]>): Promise<void> {
    const pids: string[] = [];
    for (const [connection, delivery] of live) {
      if (delivery.record === 'stale') await this.write(connection, delivery);
      else if (delivery.record === 'written') pids.push(delivery.pid);
    }
    await this.repository.touch(pids, this.liveTtlMs).catch(() => undefined);
  }

  /** The socket dropped: its record lives the window from now. False when it could not be kept. */
  keepDropped(connection: RealtimeConnection, delivery: DeliveryState): Promise<boolean> {
    const write =
      delivery.record === 'stale'
        ? this.repository.save(delivery.pid, recordOf(connection, delivery), this.windowMs)
        : this.repository.touch([delivery.pid], this.windowMs);
    return this.settle(write.then(() => true).catch(() => false));
  }

  /** The socket is gone for good: so is its record. */
  remove(delivery: DeliveryState | undefined): void {
    if (delivery && this.has(delivery)) {
      void this.settle(this.repository.remove(delivery.pid).catch(() => undefined));
    }
  }

  /** Resolves once the records being written are written. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private settle<T>(write: Promise<T>): Promise<T> {
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
    return write;
  }
}

function recordOf(connection: RealtimeConnection, delivery: DeliveryState): RecoveryRecord {
  return {
    sid: connection.id,
    userId: connection.user.userId,
    channels: [...delivery.channels()].map(([channel, id]) => ({
      channel,
      id,
      meta: connection.channels.get(channel)?.meta ?? null,
    })),
  };
}
