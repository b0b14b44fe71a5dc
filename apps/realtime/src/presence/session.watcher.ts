import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { UnavailableError } from '@lattice/common';
import { RevocationFeed, SessionService } from '@lattice/session';
import { ConnectionRegistry } from './connection.registry';
import { PresenceService } from './presence.service';

/** Backstop: every session with a live socket is checked again this often. */
export const SESSION_RECHECK_MS = 30_000;
/** Revoked ids are remembered this long, for sockets whose handshake raced the revocation. */
const REMEMBER_REVOKED_MS = 10_000;
/** Sessions checked side by side during a re-check, with a pause between batches. */
const RECHECK_PARALLEL = 32;
const RECHECK_PAUSE_MS = 50;

/**
 * Disconnects the sockets of sessions that end while connected: at once when
 * the revocation is announced, and, as a backstop for an announcement missed
 * (subscriber disconnected) or a session that simply expired, by checking
 * every session again periodically and whenever the subscriber reconnects.
 */
@Injectable()
export class SessionWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Presence');
  private readonly recentlyRevoked = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly feed: RevocationFeed,
    private readonly sessions: SessionService,
    private readonly registry: ConnectionRegistry,
    private readonly presence: PresenceService,
  ) {}

  onApplicationBootstrap(): void {
    this.feed.onRevoked((ids) => this.revoked(ids));
    // What was announced while the feed was away was missed: check everyone.
    this.feed.onRestored(() => void this.recheck());
    this.schedule();
  }

  /** Whether a session was revoked moments ago (its socket's handshake may have raced it). */
  wasRevoked(sessionId: string): boolean {
    const at = this.recentlyRevoked.get(sessionId);
    return at !== undefined && Date.now() - at < REMEMBER_REVOKED_MS;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private revoked(sessionIds: string[]): void {
    const now = Date.now();
    for (const [id, at] of this.recentlyRevoked) {
      if (now - at >= REMEMBER_REVOKED_MS) this.recentlyRevoked.delete(id);
    }
    for (const id of sessionIds) this.recentlyRevoked.set(id, now);
    const disconnected = this.presence.disconnectSessions(sessionIds);
    if (disconnected) this.logger.log(`Disconnected ${disconnected} sockets of revoked sessions`);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.recheck().finally(() => this.schedule());
    }, SESSION_RECHECK_MS);
    this.timer.unref();
  }

  /** Checks every session that has a socket here; ended ones are disconnected. */
  private recheck(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkAll(): Promise<void> {
    const connections = this.registry.sessions();
    const ended: string[] = [];
    for (let i = 0; i < connections.length && !this.stopped; i += RECHECK_PARALLEL) {
      // Spread over a few seconds, so thousands of sessions never arrive at Redis at once.
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, RECHECK_PAUSE_MS));
      await Promise.all(
        connections.slice(i, i + RECHECK_PARALLEL).map(async ({ user }) => {
          try {
            if (!(await this.sessions.authenticate(user.token))) ended.push(user.sessionId);
          } catch (error) {
            // Redis unreachable: nobody is signed out because Redis blinked.
            if (!(error instanceof UnavailableError)) throw error;
          }
        }),
      );
    }
    if (ended.length) this.revoked(ended);
  }
}
