import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { Server, Socket } from 'socket.io';
import { PresenceStore, roomOf, type PresenceMeta } from '@lattice/presence';
import { ConnectionRegistry } from './connection.registry';
import { channelPosition, DeliveryState, parsePosition } from './delivery.state';
import { PresenceBroadcaster } from './presence.broadcaster';
import type { RealtimeConnection } from './realtime.connection';
import {
  recoverable,
  trailingString,
  writeEvent,
  writeWithPosition,
  type Broadcast,
  type PacketOptions,
} from './recovery-packets';
import { RecoveryRecorder } from './recovery.recorder';
import { RecoveryRepository } from './recovery.repository';

/** How long a recovered socket has to complete its handshake (authentication included). */
const ABANDONED_HANDSHAKE_MS = 30_000;

/** The event that tells a client its position after a change of its channels or a recovery. */
export const RECOVERY_POSITION_EVENT = 'realtime:recovery';

/** What a recovered socket's handshake brings back (socket.data.recovery). */
export interface RestoredState {
  userId: string;
  channels: { channel: string; meta: PresenceMeta | null }[];
}

type SessionAdapter = {
  persistSession(session: { sid: string; pid: string }): void;
  restoreSession(pid: string, offset: string): Promise<unknown>;
  _encode(packet: unknown, options: PacketOptions): unknown[];
  apply(options: unknown, callback: (socket: Socket) => void): void;
  addAll(id: string, rooms: Set<string>): void;
  delAll(id: string): void;
  addOffsetIfNecessary?: () => void;
};

/** One event of a channel's recovery log. */
type LoggedEvent = NonNullable<Awaited<ReturnType<PresenceStore['eventsSince']>>>[number];

const pidOf = (socket: Socket): string => (socket as unknown as { pid: string }).pid;

/**
 * Socket.IO connection state recovery across instances (CONTRACT 8.3).
 *
 * Every channel event a socket is sent (a message or a presence change, each
 * with its channel's offset) ends with the socket's position (DeliveryState),
 * which Socket.IO's client keeps and reports, with its private id, when it
 * reconnects. Each socket's user and channels are kept in Redis from its
 * first join (RecoveryRecord), written again at every change of its channels
 * before the change is acknowledged, and kept alive while it is connected and
 * for REALTIME_RECOVERY_MS after it drops or its instance dies (killed
 * too). The instance the client comes back to (any) reads how far the client
 * got in every channel from its position, puts the socket back in its rooms
 * and presence, and replays every event it missed from the channels' recovery
 * logs, in order, once. Live events for the socket are held back meanwhile
 * and never sent twice (each channel's offsets only go up).
 */
@Injectable()
export class ConnectionRecovery
  extends EventEmitter<{
    /** A dropped socket whose state could not be kept: it will not be recovered. */
    lost: [socketId: string];
  }>
  implements OnModuleDestroy
{
  private readonly logger = new Logger('Recovery');
  private readonly deliveries = new Map<string, DeliveryState>();
  /** Sockets whose record was kept for their recovery when they dropped. */
  private readonly persisted = new Set<string>();
  /** What a restored socket's channels' logs held when its restore read them, for its replay. */
  private readonly missed = new WeakMap<DeliveryState, Map<string, LoggedEvent[]>>();
  /** channel → restored sockets not replayed yet, whose live events of the channel are noted. */
  private readonly watching = new Map<string, Set<DeliveryState>>();
  private adapter?: SessionAdapter;
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    private readonly repository: RecoveryRepository,
    private readonly recorder: RecoveryRecorder,
    private readonly store: PresenceStore,
    private readonly registry: ConnectionRegistry,
    private readonly broadcaster: PresenceBroadcaster,
  ) {
    super();
  }

  get windowMs(): number {
    return this.recorder.windowMs;
  }

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /**
   * Turns recovery on for `server` (once its adapter is set): the adapter
   * keeps and restores sessions through Redis, and filters the channel
   * events it delivers and gives each its socket's position.
   */
  attach(server: Server): void {
    if (!this.enabled) return;
    (server as unknown as { opts: Record<string, unknown> }).opts.connectionStateRecovery = {
      maxDisconnectionDuration: this.windowMs,
      // A recovered socket is authenticated again like any other.
      skipMiddlewares: false,
    };
    const adapter = server.of('/').adapter as unknown as SessionAdapter;
    this.adapter = adapter;
    adapter.persistSession = ({ sid }) => this.dropped(sid);
    adapter.restoreSession = (pid, position) => this.restore(pid, position);
    // The sharded adapter (a ClusterAdapter) would append its own bus offset to
    // every event when recovery is on; the position is ours (below).
    if ('addOffsetIfNecessary' in adapter) adapter.addOffsetIfNecessary = () => undefined;
    // Adapter.broadcast encodes a packet once and then applies it to each
    // socket of its rooms, synchronously: the event is known between the two.
    const encode = adapter._encode.bind(adapter);
    const apply = adapter.apply.bind(adapter);
    let current: Broadcast | null = null;
    adapter._encode = (packet, options) => {
      const event = recoverable(packet as { type?: number; data?: unknown });
      let tail = 0;
      if (event) {
        const position = channelPosition(event.channel, event.offset);
        (packet as { data: unknown[] }).data.push(position);
        tail = JSON.stringify(position).length + 1;
        if (this.watching.size > 0) this.heard(event.channel, event.offset);
      }
      const encoded = encode(packet, options);
      current =
        event || trailingString(packet as { type?: number })
          ? { packet, encoded, options, event, tail }
          : null;
      return encoded;
    };
    adapter.apply = (options, callback) => {
      const broadcast = current;
      current = null;
      if (!broadcast) return apply(options, callback);
      apply(options, (socket) => {
        const delivery = this.deliveries.get(socket.id);
        if (!delivery) return callback(socket);
        const { event } = broadcast;
        if (event && !delivery.admit(event.channel, event.offset)) return;
        // Encoded once for every socket in that one channel; each other socket gets its own position.
        if (event && delivery.hasOnly(event.channel)) return callback(socket);
        if (!writeWithPosition(socket, broadcast, delivery.position())) callback(socket);
      });
    };
    this.refreshTimer = setInterval(() => void this.refresh(), this.recorder.refreshMs);
    this.refreshTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.refreshTimer);
  }

  /** A new (not recovered) connection: what it is sent is followed from here. */
  started(socket: Socket): void {
    if (!this.enabled) return;
    this.deliveries.set(socket.id, new DeliveryState(pidOf(socket)));
  }

  /**
   * A join of `channel`: `enter` (the presence script, whose result is the
   * member list's offset) runs beside the write of the socket's record naming
   * the channel; once both are done the client is told its position.
   */
  async join<T extends { offset: string }>(
    connection: RealtimeConnection,
    channel: string,
    enter: () => Promise<T>,
  ): Promise<T> {
    const delivery = this.deliveries.get(connection.id);
    if (!delivery) return enter();
    // Called first: it puts the membership, with its meta, in the registry
    // before its first await, so the record written beside it has that meta.
    const entered = enter();
    delivery.joining(channel);
    const recorded = this.recorder.write(connection, delivery);
    try {
      const [result] = await Promise.all([entered, recorded]);
      delivery.joined(channel, result.offset);
      writeEvent(connection.socket, [RECOVERY_POSITION_EVENT, delivery.position()]);
      return result;
    } catch (error) {
      // The script failed (the record's write never throws), and the record
      // just written names a channel the socket is not in, or a meta it did
      // not get: written again as it stands, after that write so that it
      // lands last. Should Redis refuse it, it is stale and written again at
      // the next refresh or drop; a recovery meanwhile finds the record name
      // a channel the client's position does not (the client was never told
      // it joined) and recovers nothing rather than a channel never joined.
      delivery.notJoined(channel);
      await recorded;
      await this.recorder.write(connection, delivery);
      throw error;
    }
  }

  async left(connection: RealtimeConnection, channel: string): Promise<void> {
    const delivery = this.deliveries.get(connection.id);
    if (!delivery) return;
    delivery.left(channel);
    await this.changed(connection, delivery);
  }

  /** The socket's `meta` in one of its channels changed. */
  async updated(connection: RealtimeConnection): Promise<void> {
    const delivery = this.deliveries.get(connection.id);
    if (delivery) await this.changed(connection, delivery);
  }

  /** Whether the socket's state was kept for its recovery when it dropped (asked once). */
  wasPersisted(socketId: string): boolean {
    return this.persisted.delete(socketId);
  }

  /**
   * A socket that is gone for good (it left, or its handshake failed): its
   * record goes too. Not one whose recovery window ended: its record expires
   * by itself then, and may be another instance's by now.
   */
  forget(socketId: string): void {
    const delivery = this.deliveries.get(socketId);
    this.deliveries.delete(socketId);
    this.persisted.delete(socketId);
    if (delivery) this.unwatch(delivery);
    this.recorder.remove(delivery);
  }

  /** A recovered socket, connected: its client is told its position before the replay. */
  resumed(socket: Socket): void {
    const delivery = this.deliveries.get(socket.id);
    if (delivery) writeEvent(socket, [RECOVERY_POSITION_EVENT, delivery.position()]);
  }

  /**
   * A recovered socket, authenticated and connected: replays what it missed
   * in each of `channels` since what the client had (its position), then
   * lets live events through. False when the logs no longer hold every
   * missed event (the client must then join again; the socket is closed).
   */
  async replay(socket: Socket, channels: readonly string[]): Promise<boolean> {
    const delivery = this.deliveries.get(socket.id);
    if (!delivery) return false;
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

  /** Resolves once the recovery records being written are written. */
  drain(): Promise<void> {
    return this.recorder.drain();
  }

  /** Writes the socket's record again, then tells its client its position. */
  private async changed(connection: RealtimeConnection, delivery: DeliveryState): Promise<void> {
    await this.recorder.write(connection, delivery);
    writeEvent(connection.socket, [RECOVERY_POSITION_EVENT, delivery.position()]);
  }

  private async refresh(): Promise<void> {
    const live: [RealtimeConnection, DeliveryState][] = [];
    for (const [socketId, delivery] of this.deliveries) {
      const connection = this.registry.get(socketId);
      if (connection) live.push([connection, delivery]);
    }
    await this.recorder.refresh(live);
  }

  /** Called by Socket.IO when a socket dropped in a way it may come back from. */
  private dropped(sid: string): void {
    const delivery = this.deliveries.get(sid);
    this.deliveries.delete(sid);
    const connection = this.registry.get(sid);
    if (!delivery || !connection || !this.recorder.has(delivery)) return;
    this.persisted.add(sid);
    void this.recorder.keepDropped(connection, delivery).then((kept) => {
      if (kept) return;
      this.persisted.delete(sid);
      this.logger.warn('Could not keep a dropped connection’s state; it will not be recovered');
      this.emit('lost', sid);
    });
  }

  /**
   * Called by Socket.IO when a client reconnects with its private id and
   * last position: the session to resume, or null (a new session).
   */
  private async restore(pid: string, position: string): Promise<unknown> {
    const record = await this.repository.take(pid);
    if (!record || !Array.isArray(record.channels)) return null;
    if (!record.channels.every(({ id }) => Number.isInteger(id))) return null;
    // Still connected here (its drop not seen yet): not its return, and its record stays.
    if (this.registry.get(record.sid)?.socket.connected) {
      await this.recorder.keepRestored(pid, record).catch(() => undefined);
      return null;
    }
    const offsets = parsePosition(position, record.channels);
    if (!offsets || !this.adapter) return null;
    const { sid } = record;
    const rooms = record.channels.map(({ channel }) => roomOf(channel));
    // Live events for it are held back from now on: the replay will send them.
    const delivery = new DeliveryState(
      pid,
      record.channels.map(({ channel, id }) => ({
        channel,
        id,
        offset: offsets.get(channel) as string,
      })),
    );
    this.deliveries.set(sid, delivery);
    this.watch(delivery);
    // This instance hears the socket's rooms before their logs are read (an
    // adapter drops the events of a room without a socket here, and Socket.IO
    // puts the socket in its rooms only once this returns), and notes their
    // events until the replay: each event is in what is read, or held back.
    this.adapter.addAll(sid, new Set(rooms));
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
      if (this.deliveries.get(sid) === delivery) this.deliveries.delete(sid);
      this.adapter.delAll(sid);
      return null;
    }
    this.missed.set(delivery, missed);
    // A handshake that never completes (the client went away again) leaves nothing behind here.
    setTimeout(() => {
      if (delivery.resumed) return;
      this.unwatch(delivery);
      if (this.deliveries.get(sid) === delivery) this.deliveries.delete(sid);
    }, ABANDONED_HANDSHAKE_MS).unref();
    const restored: RestoredState = {
      userId: record.userId,
      channels: record.channels.map(({ channel, meta }) => ({
        channel,
        meta: meta as PresenceMeta | null,
      })),
    };
    return {
      sid,
      pid,
      rooms: record.channels.map(({ channel }) => roomOf(channel)),
      data: { recovery: restored },
      missedPackets: [],
    };
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

  /**
   * An event of `channel` reached this instance: noted by every socket being
   * restored in it, which Socket.IO does not deliver it to before the socket
   * is connected (so it is not held back there).
   */
  private heard(channel: string, offset: string): void {
    for (const delivery of this.watching.get(channel) ?? []) delivery.hold(channel, offset);
  }
}
