import type { Socket } from 'socket.io';
import type { PresenceConnection, PresenceMeta } from '@lattice/presence';

/** Who a socket speaks for, settled at the handshake. */
export interface ConnectionUser {
  userId: string;
  login: string;
  /** Display name read once per connection from the user's profile, else the login. */
  name: string;
  sessionId: string;
  /** Kept in memory only, to re-check the session while the socket lives. */
  token: string;
}

/** One channel the socket is in, as this worker recorded it in Redis. */
export interface Membership {
  meta: PresenceMeta | null;
  /** The worker id the connection is recorded under (a worker that lost its lease takes a new one). */
  workerId: string;
}

/**
 * A connected socket and its channels. Everything the socket asks for runs
 * through one queue, so its joins, leaves, updates and messages take effect
 * in the order it sent them.
 */
export class RealtimeConnection {
  readonly channels = new Map<string, Membership>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    readonly user: ConnectionUser,
  ) {}

  get id(): string {
    return this.socket.id;
  }

  /** Runs `work` after everything queued before it on this connection. */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The queue's end: resolves once everything queued so far has settled. */
  settled(): Promise<unknown> {
    return this.tail;
  }

  /**
   * Closes the transport (the client reconnects by itself) and resolves once
   * Socket.IO saw the socket go (and kept its state for recovery), or after
   * `withinMs`: a transport flushes what it was sent before it closes.
   */
  closeTransport(withinMs: number): Promise<void> {
    if (this.socket.disconnected) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, withinMs);
      this.socket.once('disconnect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.conn.close();
    });
  }

  /** This connection in `channel`, as presence records it under `workerId`. */
  in(channel: string, workerId: string): PresenceConnection {
    return {
      channel,
      connectionId: this.socket.id,
      workerId,
      userId: this.user.userId,
      login: this.user.login,
      name: this.user.name,
    };
  }
}
