import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Server, Socket } from 'socket.io';
import { ConfigService } from '@lattice/config';
import { PresenceStore, roomOf, type PresenceMeta } from '@lattice/presence';
import { ConnectionRegistry } from './connection.registry';
import { RecoveryRepository, type RecoveryRecord } from './recovery.repository';

/** The events a recovered socket gets again: what the presence scripts log (presence-shared.lua). */
const RECOVERABLE = new Set([
  'channel:message',
  'presence:joined',
  'presence:left',
  'presence:updated',
]);

/** Events remembered per socket, in the order sent, to tell how far a client got. */
const SENT_KEPT = 500;

/** How long a recovered socket has to complete its handshake (authentication included). */
const ABANDONED_HANDSHAKE_MS = 30_000;

/** The event that gives a connection its first position: nothing received after it. */
export const RECOVERY_MARKER_EVENT = 'realtime:recovery';

/** What a recovered socket's handshake brings back (socket.data.recovery). */
export interface RestoredState {
  userId: string;
  channels: { channel: string; meta: PresenceMeta | null }[];
}

/** A socket's delivery state: what it was sent, in order, and what it may still be sent. */
interface Delivery {
  marker: string;
  /** channel → the offset the client had before any event of `sent` (join or recovery). */
  from: Map<string, string>;
  /** channel → the greatest offset among events that fell out of `sent`. */
  floor: Map<string, string>;
  /** The events sent, oldest first from `sentStart`: older entries wait to be dropped in bulk. */
  sent: [string, string][];
  sentStart: number;
  /** channel → the offset of the last event of the channel given to the socket. */
  last: Map<string, string>;
  /** Replaying: live events are held back (the replay reads them from the log). */
  replaying: boolean;
  /** A live event was held back since the replay's last read began. */
  heldBack: boolean;
  /** The recovered socket connected and its replay began. */
  resumed: boolean;
}

const later = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;

/** A recoverable event's channel and offset, or null for any other packet. */
function recoverable(packet: {
  type?: number;
  data?: unknown;
}): { channel: string; offset: string } | null {
  if (packet.type !== 2 || !Array.isArray(packet.data) || packet.data.length !== 2) return null;
  const [event, payload] = packet.data as [unknown, unknown];
  if (typeof event !== 'string' || !RECOVERABLE.has(event)) return null;
  if (typeof payload !== 'object' || payload === null) return null;
  const { channel, offset } = payload as { channel?: unknown; offset?: unknown };
  if (typeof channel !== 'string' || typeof offset !== 'string') return null;
  return { channel, offset };
}

/**
 * Another event (a PresencePublisher's, say) whose last argument is a string:
 * Socket.IO's client would keep that string as its position, so the event gets
 * a position of its own, one more argument unique to the broadcast.
 */
function trailingString(packet: { type?: number; data?: unknown }): boolean {
  return (
    packet.type === 2 &&
    Array.isArray(packet.data) &&
    packet.data.length > 1 &&
    typeof packet.data[packet.data.length - 1] === 'string'
  );
}

/** In `Delivery.sent`, the channel of a position that is no channel's event (trailingString). */
const ELSEWHERE = '';

/** The position a client reports: the last argument of the last event it received. */
const tokenOf = (channel: string, offset: string): string =>
  channel === ELSEWHERE ? offset : `${channel} ${offset}`;

/**
 * Writes an event to one socket at once, in order with what the adapter
 * delivers to it. Socket.emit cannot: with recovery on it goes through the
 * adapter, and a cluster adapter publishes the event to the bus and waits
 * for Redis before delivering it, so live events would overtake it.
 */
function writeEvent(socket: Socket, data: unknown[]): void {
  (socket as unknown as { packet(packet: { type: number; data: unknown[] }): void }).packet({
    type: 2,
    data,
  });
}

type SessionAdapter = {
  persistSession(session: { sid: string; pid: string }): void;
  restoreSession(pid: string, offset: string): Promise<unknown>;
  _encode(packet: unknown, options: unknown): unknown;
  apply(options: unknown, callback: (socket: Socket) => void): void;
  addOffsetIfNecessary?: () => void;
};

/**
 * Socket.IO connection state recovery across instances (CONTRACT 8.3).
 *
 * Every channel event a socket is sent (a message or a presence change, each
 * with its channel's offset) carries one more argument, `"<channel> <offset>"`,
 * which Socket.IO's client keeps and reports, with its private id, when it
 * reconnects. When a socket drops, the instance keeps in Redis (for
 * REALTIME_RECOVERY_MS) its user, channels and the last events it was sent in
 * order; the instance the client comes back to (any) finds how far the client
 * got in every channel, puts the socket back in its rooms and presence, and
 * replays every event it missed from the channels' recovery logs, in order,
 * once. Live events for the socket are held back meanwhile and never sent
 * twice (each channel's offsets only go up).
 */
@Injectable()
export class ConnectionRecovery extends EventEmitter<{
  /** A dropped socket whose state could not be kept: it will not be recovered. */
  lost: [socketId: string];
}> {
  private readonly logger = new Logger('Recovery');
  readonly windowMs: number;
  private readonly deliveries = new Map<string, Delivery>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Sockets whose state was written to Redis when they dropped. */
  private readonly persisted = new Set<string>();

  constructor(
    private readonly repository: RecoveryRepository,
    private readonly store: PresenceStore,
    private readonly registry: ConnectionRegistry,
    config: ConfigService,
  ) {
    super();
    this.windowMs = config.get('realtime').recoveryMs;
  }

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /**
   * Turns recovery on for `server` (once its adapter is set): the adapter
   * persists and restores sessions through Redis, and marks and filters the
   * channel events it delivers.
   */
  attach(server: Server): void {
    if (!this.enabled) return;
    (server as unknown as { opts: Record<string, unknown> }).opts.connectionStateRecovery = {
      maxDisconnectionDuration: this.windowMs,
      // A recovered socket is authenticated again like any other.
      skipMiddlewares: false,
    };
    const adapter = server.of('/').adapter as unknown as SessionAdapter;
    adapter.persistSession = ({ sid, pid }) => this.persist(sid, pid);
    adapter.restoreSession = (pid, offset) => this.restore(pid, offset);
    // The sharded adapter (a ClusterAdapter) would append its own bus offset to
    // every event when recovery is on; the position is ours (below).
    if ('addOffsetIfNecessary' in adapter) adapter.addOffsetIfNecessary = () => undefined;
    // Adapter.broadcast encodes a packet once and then applies it to each
    // socket of its rooms, synchronously: the event is known between the two.
    const encode = adapter._encode.bind(adapter);
    const apply = adapter.apply.bind(adapter);
    let current: { channel: string; offset: string } | null = null;
    adapter._encode = (packet, options) => {
      const event = packet as { type?: number; data?: unknown };
      current = recoverable(event);
      if (!current && trailingString(event)) {
        current = { channel: ELSEWHERE, offset: `~${randomBytes(9).toString('base64url')}` };
      }
      if (current)
        (packet as { data: unknown[] }).data.push(tokenOf(current.channel, current.offset));
      return encode(packet, options);
    };
    adapter.apply = (options, callback) => {
      const event = current;
      current = null;
      if (!event) return apply(options, callback);
      if (event.channel === ELSEWHERE) {
        return apply(options, (socket) => {
          const delivery = this.deliveries.get(socket.id);
          if (delivery) this.sent(delivery, ELSEWHERE, event.offset);
          callback(socket);
        });
      }
      apply(options, (socket) => {
        if (this.deliver(socket.id, event.channel, event.offset)) callback(socket);
      });
    };
  }

  /** A new (not recovered) connection: its position starts here. */
  started(socket: Socket): void {
    if (!this.enabled) return;
    this.begin(socket.id, new Map(), false);
  }

  /** The socket is in `channel` with a list current to `offset`. */
  joined(socketId: string, channel: string, offset: string): void {
    const delivery = this.deliveries.get(socketId);
    if (!delivery) return;
    delivery.from.set(channel, later(delivery.from.get(channel), offset) as string);
  }

  left(socketId: string, channel: string): void {
    const delivery = this.deliveries.get(socketId);
    if (!delivery) return;
    delivery.from.delete(channel);
    delivery.floor.delete(channel);
    delivery.last.delete(channel);
  }

  /** Whether the socket's state was kept for its recovery when it dropped (asked once). */
  wasPersisted(socketId: string): boolean {
    return this.persisted.delete(socketId);
  }

  /** A socket that is gone for good, or whose handshake failed. */
  forget(socketId: string): void {
    this.deliveries.delete(socketId);
    this.persisted.delete(socketId);
  }

  /**
   * A recovered socket, authenticated and connected: replays what it missed
   * in each of `channels` since what the client had (the restore's offsets),
   * then lets live events through. False when the logs no longer hold every
   * missed event (the client must then join again; the socket is closed).
   */
  async replay(socket: Socket, channels: readonly string[]): Promise<boolean> {
    const delivery = this.deliveries.get(socket.id);
    if (!delivery) return false;
    delivery.resumed = true;
    for (;;) {
      delivery.heldBack = false;
      for (const channel of channels) {
        const after = delivery.last.get(channel);
        if (after === undefined) continue;
        const events = await this.store.eventsSince(channel, after);
        if (events === null) return false;
        for (const { event, payload, offset, except } of events) {
          if (!socket.connected) return false;
          delivery.last.set(channel, offset);
          if (except === socket.id) continue;
          this.sent(delivery, channel, offset);
          writeEvent(socket, [event, JSON.parse(payload) as unknown, tokenOf(channel, offset)]);
        }
      }
      if (!delivery.heldBack) break;
    }
    delivery.replaying = false;
    return true;
  }

  /** Resolves once the recovery records being written are written. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Whether a live channel event goes to this socket now (and remembers it did). */
  private deliver(socketId: string, channel: string, offset: string): boolean {
    const delivery = this.deliveries.get(socketId);
    if (!delivery) return true;
    const last = delivery.last.get(channel);
    if (delivery.replaying) {
      if (last === undefined || offset > last) delivery.heldBack = true;
      return false;
    }
    if (last !== undefined && offset <= last) return false;
    delivery.last.set(channel, offset);
    this.sent(delivery, channel, offset);
    return true;
  }

  private sent(delivery: Delivery, channel: string, offset: string): void {
    delivery.sent.push([channel, offset]);
    if (delivery.sent.length - delivery.sentStart <= SENT_KEPT) return;
    const [oldChannel, oldOffset] = delivery.sent[delivery.sentStart++];
    // Dropped in bulk, not one shift per event: a busy socket is sent thousands.
    if (delivery.sentStart >= SENT_KEPT) {
      delivery.sent = delivery.sent.slice(delivery.sentStart);
      delivery.sentStart = 0;
    }
    if (oldChannel === ELSEWHERE) return;
    delivery.floor.set(oldChannel, later(delivery.floor.get(oldChannel), oldOffset) as string);
  }

  private begin(socketId: string, from: Map<string, string>, replaying: boolean): Delivery {
    const delivery: Delivery = {
      marker: `~${randomBytes(9).toString('base64url')}`,
      from,
      floor: new Map(),
      sent: [],
      sentStart: 0,
      last: new Map(replaying ? from : []),
      replaying,
      heldBack: false,
      resumed: false,
    };
    this.deliveries.set(socketId, delivery);
    return delivery;
  }

  /** The first packet of a connection: the position "nothing received yet". */
  mark(socket: Socket): void {
    const delivery = this.deliveries.get(socket.id);
    if (delivery) writeEvent(socket, [RECOVERY_MARKER_EVENT, delivery.marker]);
  }

  /** Called by Socket.IO when a socket dropped in a way it may come back from. */
  private persist(sid: string, pid: string): void {
    const delivery = this.deliveries.get(sid);
    this.deliveries.delete(sid);
    const connection = this.registry.get(sid);
    if (!delivery || !connection) return;
    const record: RecoveryRecord = {
      sid,
      userId: connection.user.userId,
      marker: delivery.marker,
      channels: [...connection.channels].flatMap(([channel, { meta }]) => {
        const from = delivery.from.get(channel);
        return from === undefined
          ? []
          : [{ channel, meta, from, floor: delivery.floor.get(channel) ?? '' }];
      }),
      sent: delivery.sent
        .slice(delivery.sentStart)
        .filter(([channel]) => channel === ELSEWHERE || delivery.from.has(channel)),
    };
    this.persisted.add(sid);
    const write = this.repository.save(pid, record, this.windowMs).catch(() => {
      this.persisted.delete(sid);
      this.logger.warn('Could not keep a dropped connection’s state; it will not be recovered');
      this.emit('lost', sid);
    });
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }

  /**
   * Called by Socket.IO when a client reconnects with its private id and
   * last position: the session to resume, or null (a new session).
   */
  private async restore(pid: string, token: string): Promise<unknown> {
    const record = await this.repository.take(pid);
    if (!record) return null;
    const from = new Map<string, string>();
    if (token === record.marker) {
      for (const { channel, from: offset } of record.channels) from.set(channel, offset);
    } else {
      const upTo = record.sent.findIndex(([channel, offset]) => tokenOf(channel, offset) === token);
      if (upTo < 0) return null;
      for (const { channel, from: offset, floor } of record.channels) {
        from.set(channel, later(offset, floor || undefined) as string);
      }
      for (const [channel, offset] of record.sent.slice(0, upTo + 1)) {
        if (from.has(channel)) from.set(channel, later(from.get(channel), offset) as string);
      }
    }
    // Recoverable only if every missed event is still in the logs.
    for (const [channel, offset] of from) {
      if ((await this.store.eventsSince(channel, offset)) === null) return null;
    }
    const restored: RestoredState = {
      userId: record.userId,
      channels: record.channels.map(({ channel, meta }) => ({
        channel,
        meta: meta as PresenceMeta | null,
      })),
    };
    // Live events for it are held back from now on: the replay will send them.
    const delivery = this.begin(record.sid, from, true);
    // A handshake that never completes (the client went away again) leaves nothing behind.
    setTimeout(() => {
      if (this.deliveries.get(record.sid) === delivery && !delivery.resumed) {
        this.deliveries.delete(record.sid);
      }
    }, ABANDONED_HANDSHAKE_MS).unref();
    return {
      sid: record.sid,
      pid,
      rooms: record.channels.map(({ channel }) => roomOf(channel)),
      data: { recovery: restored },
      missedPackets: [],
    };
  }
}
