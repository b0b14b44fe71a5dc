import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ForbiddenError, LatticeError } from '@lattice/common';
import {
  mayAccessChannel,
  NotAMemberError,
  PresenceStore,
  roomOf,
  userChannelOwner,
  type PresenceMeta,
} from '@lattice/presence';
import { RateLimitService, type RateLimitPolicy } from '@lattice/rate-limit';
import { ConnectionRecovery } from './connection.recovery';
import type { RestoredState } from './connection.restorer';
import { ConnectionRegistry } from './connection.registry';
import { answer, parsePayload } from './presence-ack';
import {
  joinPayload,
  leavePayload,
  MAX_CHANNELS_PER_CONNECTION,
  updatePayload,
  type Ack,
  type ChannelMessage,
} from './presence-events';
import { MembershipLedger } from './membership.ledger';
import { PresenceBroadcaster } from './presence.broadcaster';
import { RealtimeConnection, type ConnectionUser } from './realtime.connection';
import { RealtimeUnavailableError, TooManyChannelsError } from './realtime.errors';

/**
 * The realtime app's rate-limit policies, per user: `presence-change`, joins
 * and meta updates (each one tells a whole channel); `channel-message`,
 * channel messages. Declared in the app's rate-limit registry.
 */
export const PRESENCE_RATE_LIMITS: RateLimitPolicy[] = [
  { name: 'presence-change', limit: 60, window: 10, key: 'user' },
  { name: 'channel-message', limit: 30, window: 10, key: 'user' },
];
const PRESENCE_CHANGE: readonly string[] = ['presence-change'];
/** How long a graceful shutdown waits for its transports to flush and close. */
const TRANSPORT_CLOSE_WAIT_MS = 5000;

/**
 * What the presence events do, and the connections' comings and goings
 * (channel messages are ChannelMessenger's). Every event of one connection
 * runs in order on that connection's queue; every presence change is decided
 * in Redis, and announced to the channel's connections on every instance, by
 * one script (PresenceStore), which the MembershipLedger runs under this
 * worker's lease.
 * No event ever throws: each answers `{ ok: true, ... }` or
 * `{ ok: false, code, message }`.
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger('Presence');
  private closing = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Dropped connections that may still recover: their presence stays until the window ends. */
  private readonly parked = new Map<
    string,
    { connection: RealtimeConnection; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly store: PresenceStore,
    private readonly memberships: MembershipLedger,
    private readonly broadcaster: PresenceBroadcaster,
    private readonly limiter: RateLimitService,
    private readonly recovery: ConnectionRecovery,
  ) {
    recovery.on('lost', (socketId) => this.expire(socketId));
  }

  get isClosing(): boolean {
    return this.closing;
  }

  connected(socket: Socket, user: ConnectionUser): RealtimeConnection {
    // A socket recovered here takes over its parked self (same id), whose presence it keeps.
    const parked = this.parked.get(socket.id);
    if (parked && parked.connection.user.userId !== user.userId) this.expire(socket.id);
    else if (parked) {
      clearTimeout(parked.timer);
      this.parked.delete(socket.id);
      this.registry.remove(socket.id);
    }
    const connection = new RealtimeConnection(socket, user);
    this.registry.add(connection);
    return connection;
  }

  /** A new connection: recovery counts what it is sent from here. */
  started(connection: RealtimeConnection): void {
    this.recovery.started(connection.socket);
  }

  /**
   * A recovered connection (Socket.IO put it back in its rooms): its
   * memberships are recorded under this worker (kept as they were, so nobody
   * sees it leave or join), then what it missed is replayed. If that cannot be
   * done completely, its transport is closed: it reconnects unrecovered.
   */
  resumed(connection: RealtimeConnection, restored: RestoredState): void {
    for (const { channel, meta } of restored.channels) {
      this.memberships.adopt(connection, channel, meta);
    }
    this.recovery.resumed(connection.socket);
    void this.track(
      connection.serial(async () => {
        try {
          for (const channel of connection.channels.keys()) {
            await this.broadcaster.roomReady(roomOf(channel));
            await this.memberships.rerecord(connection, channel);
          }
          const channels = [...connection.channels.keys()];
          if (await this.recovery.replay(connection.socket, channels)) return;
        } catch (error) {
          if (!(error instanceof LatticeError)) {
            this.logger.error({ err: error }, 'Recovering a connection failed');
          }
        }
        this.recovery.forget(connection.id);
        connection.socket.conn.close();
      }),
    );
  }

  join(socketId: string, payload: unknown): Promise<Ack> {
    return this.answer(socketId, async (connection) => {
      const { channel, meta, history } = parsePayload(joinPayload, payload);
      const owner = userChannelOwner(channel);
      if (!mayAccessChannel(channel, connection.user.userId)) {
        throw new ForbiddenError(`Only user ${owner} may join ${channel}`);
      }
      await this.limit(PRESENCE_CHANGE, connection);
      const ack = await this.track(
        connection.serial(() => this.joinNow(connection, channel, meta ?? null)),
      );
      if (!ack.ok || !history) return ack;
      return { ...ack, messages: await this.store.messages<ChannelMessage>(channel, history) };
    });
  }

  leave(socketId: string, payload: unknown): Promise<Ack> {
    return this.answer(socketId, async (connection) => {
      const { channel } = parsePayload(leavePayload, payload);
      return this.track(
        connection.serial(async () => {
          const membership = this.memberships.exit(connection, channel);
          if (!membership) return { ok: true };
          await connection.socket.leave(roomOf(channel));
          await this.memberships.remove(connection, channel, membership);
          await this.recovery.left(connection, channel);
          return { ok: true };
        }),
      );
    });
  }

  update(socketId: string, payload: unknown): Promise<Ack> {
    return this.answer(socketId, async (connection) => {
      const { channel, meta } = parsePayload(updatePayload, payload);
      if (!connection.channels.has(channel)) throw new NotAMemberError(channel);
      await this.limit(PRESENCE_CHANGE, connection);
      return this.track(connection.serial(() => this.updateNow(connection, channel, meta)));
    });
  }

  /**
   * The socket is gone: its channels are left (unless the whole worker is
   * shutting down). False when it was never a connection here.
   */
  disconnected(socketId: string): boolean {
    const kept = this.recovery.wasPersisted(socketId);
    if (kept && !this.closing && this.registry.get(socketId)) {
      // It may come back within the window, here or elsewhere: it stays a member until then.
      const connection = this.registry.get(socketId) as RealtimeConnection;
      const timer = setTimeout(() => this.expire(socketId), this.recovery.windowMs);
      this.parked.set(socketId, { connection, timer });
      return true;
    }
    this.recovery.forget(socketId);
    const connection = this.registry.remove(socketId);
    if (!connection) return false;
    if (this.closing) return true;
    void this.track(connection.serial(() => this.memberships.removeAll(connection)));
    return true;
  }

  /** Sessions that ended: their sockets are disconnected, and told why by the disconnect. */
  disconnectSessions(sessionIds: readonly string[]): number {
    const connections = this.registry.ofSessions(sessionIds);
    for (const connection of connections) {
      if (this.parked.has(connection.id)) this.expire(connection.id);
      else connection.socket.disconnect();
    }
    return connections.length;
  }

  /**
   * A parked connection's window ended (or its session did): it leaves its
   * channels, unless it came back on another instance, which holds it now.
   */
  private expire(socketId: string): void {
    const parked = this.parked.get(socketId);
    if (!parked) return;
    clearTimeout(parked.timer);
    this.parked.delete(socketId);
    const { connection } = parked;
    if (this.registry.get(socketId) !== connection) return;
    this.registry.remove(socketId);
    if (this.closing) return;
    void this.track(connection.serial(() => this.memberships.removeAll(connection, true)));
  }

  /**
   * Graceful shutdown: connections are closed at the transport, so clients
   * reconnect (to another instance) by themselves; once the events in flight
   * are done, this worker's connections leave Redis all at once.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    // Each socket's state is handed to recovery as it goes, so wait for them all to go.
    await Promise.all(
      [...this.registry.all()].map((c) => c.closeTransport(TRANSPORT_CLOSE_WAIT_MS)),
    );
    await Promise.allSettled([...this.inFlight]);
    // Dropped connections keep their state in Redis for their recovery elsewhere.
    await this.recovery.drain();
    for (const { timer } of this.parked.values()) clearTimeout(timer);
    this.parked.clear();
    try {
      await this.memberships.close();
    } catch {
      this.logger.warn(
        'Could not remove this worker’s presence from Redis; other workers will once its lease lapses',
      );
    }
  }

  private async joinNow(
    connection: RealtimeConnection,
    channel: string,
    meta: PresenceMeta | null,
  ): Promise<Ack> {
    if (this.closing || !connection.socket.connected) throw new RealtimeUnavailableError();
    const existing = connection.channels.get(channel);
    if (!existing && connection.channels.size >= MAX_CHANNELS_PER_CONNECTION) {
      throw new TooManyChannelsError(MAX_CHANNELS_PER_CONNECTION);
    }
    const workerId = await this.memberships.writableId(connection, channel);
    // In the room before Redis decides, so no change made after the snapshot is missed.
    await connection.socket.join(roomOf(channel));
    // And hearing the room, so no event published after the script is lost here.
    await this.broadcaster.roomReady(roomOf(channel));
    try {
      // The socket's recovery record is written beside the script, before the acknowledgement.
      const { members, offset } = await this.recovery.join(connection, channel, () =>
        this.memberships.enter(connection, channel, workerId, meta),
      );
      return { ok: true, members, offset };
    } catch (error) {
      if (!existing) await connection.socket.leave(roomOf(channel));
      throw error;
    }
  }

  private async updateNow(
    connection: RealtimeConnection,
    channel: string,
    meta: PresenceMeta,
  ): Promise<Ack> {
    if (!connection.channels.has(channel)) throw new NotAMemberError(channel);
    if (this.closing) throw new RealtimeUnavailableError();
    await this.memberships.update(connection, channel, meta);
    await this.recovery.updated(connection);
    return { ok: true };
  }

  private async limit(policies: readonly string[], connection: RealtimeConnection): Promise<void> {
    await this.limiter.enforce(policies, { user: { id: connection.user.userId } });
  }

  private answer(
    socketId: string,
    work: (connection: RealtimeConnection) => Promise<Ack>,
  ): Promise<Ack> {
    return answer(this.registry.get(socketId), this.logger, work);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }
}
