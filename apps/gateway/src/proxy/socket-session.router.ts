import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import { SESSION_ID, SocketRoutesRepository } from '@lattice/presence';

/** How long an address found among the live realtime instances is trusted without asking again. */
const KNOWN_INSTANCE_MS = 1_000;
/** Addresses remembered at most (a deployment has few instances). */
const MAX_KNOWN_INSTANCES = 256;

/**
 * Where a `/socket.io/` request goes. A request of an existing Engine.IO
 * session (query `sid`, polling and WebSocket upgrade alike) goes to the
 * realtime instance that recorded the session; anything else, an unknown or
 * ended session included, to REALTIME_URL (which answers an unknown session
 * with Engine.IO's own 400, so the client starts a new one).
 *
 * Only an address Redis holds for the session can be chosen, never one the
 * client sends, and only when it is an http(s) origin that is REALTIME_URL's
 * or that of a live realtime instance (announced in the registry and not
 * lapsed). When Redis cannot be asked, requests go to REALTIME_URL, as they
 * would with a single instance.
 */
@Injectable()
export class SocketSessionRouter {
  private readonly logger = new Logger('Proxy');
  private readonly defaultUpstream: string;
  private readonly defaultOrigin: string;
  /** Instance address → until when it is known to be live (ms). */
  private readonly known = new Map<string, number>();
  /** Said once per outage. */
  private failing = false;

  constructor(
    private readonly routes: SocketRoutesRepository,
    config: ConfigService,
  ) {
    this.defaultUpstream = config.get('gateway').realtimeUrl;
    this.defaultOrigin = new URL(this.defaultUpstream).origin;
  }

  /** The upstream for a request whose query's `sid` is `sid`. */
  async upstreamFor(sid: unknown): Promise<string> {
    if (typeof sid !== 'string' || !SESSION_ID.test(sid)) return this.defaultUpstream;
    try {
      const owner = await this.routes.ownerOf(sid);
      const upstream = owner === null ? this.defaultUpstream : await this.trusted(owner);
      this.failing = false;
      return upstream;
    } catch {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          'Socket.IO session routes cannot be read from Redis; sending sessions to REALTIME_URL until it answers',
        );
      }
      return this.defaultUpstream;
    }
  }

  private async trusted(owner: string): Promise<string> {
    const origin = httpOrigin(owner);
    if (origin === null || origin !== owner) {
      this.logger.warn('A Socket.IO session route in Redis is not an http(s) origin; ignored');
      return this.defaultUpstream;
    }
    if (origin === this.defaultOrigin) return this.defaultUpstream;
    const now = Date.now();
    if ((this.known.get(origin) ?? 0) > now) return origin;
    if (!(await this.routes.isInstance(origin))) {
      this.known.delete(origin);
      return this.defaultUpstream;
    }
    if (this.known.size >= MAX_KNOWN_INSTANCES) this.known.clear();
    this.known.set(origin, now + KNOWN_INSTANCE_MS);
    return origin;
  }
}

/** The origin of an http or https URL with a host, or null. */
function httpOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return null;
    return url.origin;
  } catch {
    return null;
  }
}
