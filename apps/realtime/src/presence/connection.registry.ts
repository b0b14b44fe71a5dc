import { Injectable } from '@nestjs/common';
import type { Membership, RealtimeConnection } from './realtime.connection';

/**
 * The connections of this worker, by socket, by channel and by session. It is
 * the worker's own truth about its connections: what it re-records after
 * losing its lease, what keeps its keys alive, whom a revocation disconnects.
 */
@Injectable()
export class ConnectionRegistry {
  private readonly connections = new Map<string, RealtimeConnection>();
  private readonly byChannel = new Map<string, Set<RealtimeConnection>>();
  private readonly bySession = new Map<string, Set<RealtimeConnection>>();

  get size(): number {
    return this.connections.size;
  }

  add(connection: RealtimeConnection): void {
    this.connections.set(connection.id, connection);
    const sessions = this.bySession.get(connection.user.sessionId) ?? new Set();
    sessions.add(connection);
    this.bySession.set(connection.user.sessionId, sessions);
  }

  /** Forgets a connection; returns it with the channels it was in, or undefined. */
  remove(socketId: string): RealtimeConnection | undefined {
    const connection = this.connections.get(socketId);
    if (!connection) return undefined;
    this.connections.delete(socketId);
    const sessions = this.bySession.get(connection.user.sessionId);
    sessions?.delete(connection);
    if (sessions?.size === 0) this.bySession.delete(connection.user.sessionId);
    for (const channel of connection.channels.keys()) this.dropFromChannel(connection, channel);
    return connection;
  }

  get(socketId: string): RealtimeConnection | undefined {
    return this.connections.get(socketId);
  }

  all(): IterableIterator<RealtimeConnection> {
    return this.connections.values();
  }

  /** Records that the connection is in `channel` (synchronously, before Redis is asked). */
  enter(connection: RealtimeConnection, channel: string, membership: Membership): void {
    connection.channels.set(channel, membership);
    const members = this.byChannel.get(channel) ?? new Set();
    members.add(connection);
    this.byChannel.set(channel, members);
  }

  /** Records that the connection left `channel`; returns what it was. */
  exit(connection: RealtimeConnection, channel: string): Membership | undefined {
    const membership = connection.channels.get(channel);
    connection.channels.delete(channel);
    this.dropFromChannel(connection, channel);
    return membership;
  }

  /** Whether any connection of this worker is in `channel`. */
  isUsed(channel: string): boolean {
    return this.byChannel.has(channel);
  }

  /** Channels where this worker has connections. */
  channels(): string[] {
    return [...this.byChannel.keys()];
  }

  /** Connections signed in with one of these sessions. */
  ofSessions(sessionIds: readonly string[]): RealtimeConnection[] {
    return sessionIds.flatMap((id) => [...(this.bySession.get(id) ?? [])]);
  }

  /** One connection per session, for re-checking sessions. */
  sessions(): RealtimeConnection[] {
    return [...this.bySession.values()].flatMap((set) => [...set].slice(0, 1));
  }

  private dropFromChannel(connection: RealtimeConnection, channel: string): void {
    const members = this.byChannel.get(channel);
    members?.delete(connection);
    if (members?.size === 0) this.byChannel.delete(channel);
  }
}
