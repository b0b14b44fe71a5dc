import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Server } from 'socket.io';
import { ConfigService } from '@lattice/config';
import { presenceTimings, SocketRoutesRepository, type PresenceTimings } from '@lattice/presence';
import { REDIS_STARTUP_WAIT_MS, RedisService } from '@lattice/redis';

/** The Engine.IO socket as far as routing needs it. */
interface EngineSocket {
  id: string;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Makes this instance's Socket.IO sessions reachable through any gateway
 * without sticky load balancing: every Engine.IO session id it issues is
 * recorded in Redis with this instance's ADVERTISE_URL before the client
 * hears of it (so its very next request is routed right), kept alive while
 * the session lives and removed when it ends; and the instance announces its
 * address beside its presence lease, so gateways only ever route to a live
 * realtime instance.
 */
@Injectable()
export class SocketRoutesAnnouncer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Realtime');
  private readonly url: string;
  private readonly timings: PresenceTimings;
  private server?: Server;
  private announceTimer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Said once per outage. */
  private failing = false;

  constructor(
    private readonly routes: SocketRoutesRepository,
    private readonly redis: RedisService,
    config: ConfigService,
  ) {
    this.url = config.get('realtime').advertiseUrl;
    this.timings = presenceTimings(config.get('presence'));
  }

  /** Takes over the server's session ids and follows its sessions. */
  attach(server: Server): void {
    this.server = server;
    const engine = server.engine as Server['engine'] & {
      generateId: (request: unknown) => Promise<string>;
    };
    // The handshake's answer waits for the record, so no request of the session can precede it.
    engine.generateId = async () => {
      const sid = randomBytes(15).toString('base64url');
      await this.routes.record(sid, this.url, this.timings.keyTtlMs);
      return sid;
    };
    engine.on('connection', (socket: EngineSocket) => {
      socket.once('close', () => {
        this.routes.forget(socket.id).catch(() => undefined);
      });
    });
  }

  onApplicationBootstrap(): void {
    // A connection still being made is not an outage: the first announcement waits for it.
    void this.redis.whenReady(REDIS_STARTUP_WAIT_MS).then(() => this.announceLoop());
    this.renewTimer = setInterval(() => void this.renew(), this.timings.refreshEveryMs);
    this.renewTimer.unref();
  }

  /** Gateways stop routing here before the sessions are closed. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.announceTimer);
    clearInterval(this.renewTimer);
    await this.routes.withdraw(this.url).catch(() => undefined);
  }

  private announceLoop(): void {
    if (this.stopped) return;
    void this.routes
      .announce(this.url, this.timings.leaseMs)
      .then(() => (this.failing = false))
      .catch(() => this.reportFailure())
      .finally(() => {
        if (this.stopped) return;
        this.announceTimer = setTimeout(() => this.announceLoop(), this.timings.heartbeatMs);
        this.announceTimer.unref();
      });
  }

  private async renew(): Promise<void> {
    const clients = (this.server?.engine as { clients?: Record<string, unknown> } | undefined)
      ?.clients;
    const sids = Object.keys(clients ?? {});
    if (!sids.length) return;
    try {
      await this.routes.renew(sids, this.url, this.timings.keyTtlMs);
    } catch {
      this.reportFailure();
    }
  }

  private reportFailure(): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.warn(
      `Could not announce this instance (${this.url}) or its Socket.IO sessions in Redis; gateways may not route to it until Redis answers`,
    );
  }
}
