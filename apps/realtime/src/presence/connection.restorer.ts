import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { PresenceStore, roomOf, type PresenceMeta } from '@lattice/presence';
import { ConnectionRegistry } from './connection.registry';
import { DeliveryState, parsePosition } from './delivery.state';
import { PresenceBroadcaster } from './presence.broadcaster';
import { writeEvent } from './recovery-packets';
import { RecoveryRecorder } from './recovery.recorder';
import { RecoveryRepository } from './recovery.repository';

/** What a recovered socket's handshake brings back (socket.data.recovery). */
export interface RestoredState {
  userId: string;
  channels: { channel: string; meta: PresenceMeta | null }[];
}

/** What Socket.IO's adapter restores a socket from (its Session). */
export interface RestoredSession {
  sid: string;
  pid: string;
  rooms: string[];
  data: { recovery: RestoredState };
  missedPackets: unknown[];
}

/** The adapter's rooms, which a socket being restored is put in before Socket.IO does. */
export interface AdapterRooms {
  addAll(id: string, rooms: Set<string>): void;
  delAll(id: string): void;
}

/** One event of a channel's recovery log. */
type LoggedEvent = NonNullable<Awaited<ReturnType<PresenceStore['eventsSince']>>>[number];

/**
 * The side of connection recovery (ConnectionRecovery) that brings a socket
 * back: takes its record, reads what it missed from its channels' recovery
 * logs (once), and replays that after its handshake, with the live events
 * held back meanwhile that were published after the read.
 */
@Injectable()
export class ConnectionRestorer {
  /** What a restored socket's channels' logs held when its restore read them, for its replay. */
  private readonly missed = new WeakMap<DeliveryState, Map<string, LoggedEvent[]>>();
  /** channel → restored sockets not replayed yet, whose live events of the channel are noted. */
  private readonly watching = new Map<string, Set<DeliveryState>>();

  constructor(
    private readonly repository: RecoveryRepository,
    private readonly recorder: RecoveryRecorder,
    private readonly store: PresenceStore,
    private readonly registry: ConnectionRegistry,
    private readonly broadcaster: PresenceBroadcaster,
  ) {}

  /**
   * A client reconnects with its private id and last position: the session
   * to resume and the socket's delivery state (live events held back from
   * now on: the replay sends them), or null (a new session).
   */
  async restore(
    pid: string,
    position: string,
    adapter: AdapterRooms,
  ): Promise<{ session: RestoredSession; delivery: DeliveryState } | null> {
    const record = await this.repository.take(pid);
    if (!record || !Array.isArray(record.channels)) return null;
    if (!record.channels.every(({ id }) => Number.isInteger(id))) return null;
    // Still connected here (its drop not seen yet): not its return, and its record stays.
    if (this.registry.get(record.sid)?.socket.connected) {
      await this.recorder.keepRestored(pid, record).catch(() => undefined);
      return null;
    }
    const offsets = parsePosition(position, record.channels);
    if (!offsets) return null;
    const { sid } = record;
    const rooms = record.channels.map(({ channel }) => roomOf(channel));
    const delivery = new DeliveryState(
      pid,
      record.channels.map(({ channel, id }) => ({
        channel,
        id,
        offset: offsets.get(channel) as string,
      })),
    );
    // This instance hears the socket's rooms before their logs are read (an
    // adapter drops the events of a room without a socket here, and Socket.IO
    // puts the socket in its rooms only once this returns), and notes their
    // events until the replay: each event is in what is read, or held back.
    this.watch(delivery);
    adapter.addAll(sid, new Set(rooms));
    let missed: Map<string, LoggedEvent[]> | null = null;
    try {
      await Promise.all(rooms.map((room) => this.broadcaster.roomReady(room)));
      // Recoverable only if every missed event is still in the logs.
      missed = await this.readLogs(offsets);
      // Kept again at once: this instance may die too before the socket is back.
      if (missed) await this.recorder.keepRestored(pid, record);
    } catch {
      missed = null;
    }
    if (!missed) {
      this.unwatch(delivery);
      adapter.delAll(sid);
      return null;
    }
    this.missed.set(delivery, missed);
    const restored: RestoredState = {
      userId: record.userId,
      channels: record.channels.map(({ channel, meta }) => ({
        channel,
        meta: meta as PresenceMeta | null,
      })),
    };
    return {
      session: { sid, pid, rooms, data: { recovery: restored }, missedPackets: [] },
      delivery,
    };
  }

  /**
   * A restored socket, authenticated and connected: replays what it missed
   * in each of `channels` since what the client had (its position), then
   * lets live events through. False when the logs no longer hold every
   * missed event.
   */
  async replay(
    socket: Socket,
    delivery: DeliveryState,
    channels: readonly string[],
  ): Promise<boolean> {
    delivery.resumed = true;
    const missed = this.missed.get(delivery);
    this.missed.delete(delivery);
    try {
      // First what the restore read; then, again, each channel of which a
      // live event newer than what was sent was held back meanwhile (it was
      // published after the read), until none was.
      let reading = channels;
      while (reading.length > 0) {
        for (const channel of reading) {
          const after = delivery.sentIn(channel);
          if (after === undefined) continue;
          const events = missed?.get(channel) ?? (await this.store.eventsSince(channel, after));
          missed?.delete(channel);
          if (events === null) return false;
          for (const { event, payload, offset, except } of events) {
            if (!socket.connected) return false;
            delivery.advance(channel, offset);
            if (except === socket.id) continue;
            writeEvent(socket, [event, JSON.parse(payload) as unknown, delivery.position()]);
          }
        }
        reading = channels.filter((channel) => delivery.behind(channel));
      }
      delivery.replayed();
      return true;
    } finally {
      this.unwatch(delivery);
    }
  }

  /** A restored socket that will not be replayed (gone, or its handshake never completed). */
  discard(delivery: DeliveryState): void {
    this.unwatch(delivery);
    this.missed.delete(delivery);
  }

  /**
   * An event of `channel` reached this instance: noted by every socket being
   * restored in it, which Socket.IO does not deliver it to before the socket
   * is connected (so it is not held back there).
   */
  heard(channel: string, offset: string): void {
    if (this.watching.size === 0) return;
    for (const delivery of this.watching.get(channel) ?? []) delivery.hold(channel, offset);
  }

  /** What each channel's log holds after the offset the client has; null when one lacks some of it. */
  private async readLogs(
    offsets: ReadonlyMap<string, string>,
  ): Promise<Map<string, LoggedEvent[]> | null> {
    const read = await Promise.all(
      [...offsets].map(async ([channel, offset]) => {
        const events = await this.store.eventsSince(channel, offset);
        return events && ([channel, events] as const);
      }),
    );
    return read.every((entry) => entry !== null) ? new Map(read) : null;
  }

  private watch(delivery: DeliveryState): void {
    for (const [channel] of delivery.channels()) {
      let deliveries = this.watching.get(channel);
      if (!deliveries) this.watching.set(channel, (deliveries = new Set()));
      deliveries.add(delivery);
    }
  }

  private unwatch(delivery: DeliveryState): void {
    for (const [channel] of delivery.channels()) {
      const deliveries = this.watching.get(channel);
      if (deliveries?.delete(delivery) && deliveries.size === 0) this.watching.delete(channel);
    }
  }
}
