import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { Server, Socket } from 'socket.io';
import { ConnectionRegistry } from './connection.registry';
import { ConnectionRestorer } from './connection.restorer';
import { channelPosition, DeliveryState } from './delivery.state';
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

/** How long a recovered socket has to complete its handshake (authentication included). */
const ABANDONED_HANDSHAKE_MS = 30_000;

/** The event that tells a client its position after a change of its channels or a recovery. */
export const RECOVERY_POSITION_EVENT = 'realtime:recovery';

type SessionAdapter = {
  persistSession(session: { sid: string; pid: string }): void;
  restoreSession(pid: string, offset: string): Promise<unknown>;
  _encode(packet: unknown, options: PacketOptions): unknown[];
  apply(options: unknown, callback: (socket: Socket) => void): void;
  addAll(id: string, rooms: Set<string>): void;
  delAll(id: string): void;
  addOffsetIfNecessary?: () => void;
};

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
 * logs, in order, once (ConnectionRestorer). Live events for the socket are
 * held back meanwhile and never sent twice (each channel's offsets only go up).
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
  private adapter?: SessionAdapter;
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    private readonly recorder: RecoveryRecorder,
    private readonly registry: ConnectionRegistry,
    private readonly restorer: ConnectionRestorer,
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
        this.restorer.heard(event.channel, event.offset);
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
    if (delivery) this.restorer.discard(delivery);
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
    return delivery ? this.restorer.replay(socket, delivery, channels) : false;
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
    if (!this.adapter) return null;
    const restored = await this.restorer.restore(pid, position, this.adapter);
    if (!restored) return null;
    const { session, delivery } = restored;
    this.deliveries.set(session.sid, delivery);
    // A handshake that never completes (the client went away again) leaves nothing behind here.
    setTimeout(() => {
      if (delivery.resumed) return;
      this.restorer.discard(delivery);
      if (this.deliveries.get(session.sid) === delivery) this.deliveries.delete(session.sid);
    }, ABANDONED_HANDSHAKE_MS).unref();
    return session;
  }
}
