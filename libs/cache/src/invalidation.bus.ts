import { Logger } from '@nestjs/common';
import { type RedisService, type RedisClient } from '@lattice/redis';
import { HEARTBEAT_CHANNEL_PREFIX, INVALIDATION_CHANNEL } from './cache.constants';

/**
 * A change announced on the bus: one key (with the version written, absent
 * for a delete), several deleted keys (a tag delete), or a pattern; keys and
 * patterns are relative to `cache:`.
 */
export type Invalidation =
  | { origin: string; key: string; version?: string }
  | { origin: string; keys: string[] }
  | { origin: string; pattern: string };

export type Change = { key: string; version?: string } | { keys: string[] } | { pattern: string };

export interface BusListener {
  /** A change made by another instance. */
  invalidated(change: Invalidation): void;
  /** A message that could not be read: the listener must assume anything changed. */
  unreadable(): void;
  /** The feed may have missed messages from now on. */
  lost(reason: string): void;
  /** The feed is complete again: every change from now on will arrive. */
  regained(): void;
}

export interface BusTiming {
  heartbeatMs: number;
  staleAfterMs: number;
}

/**
 * The invalidation bus: a pub/sub channel on which every change to the cache
 * is announced (by the same script that makes it), and a subscriber that
 * hears them.
 *
 * While the subscriber is not subscribed, messages are lost and nobody can
 * tell which, so the listener is told the feed is lost the moment the
 * connection closes, and regained only once the subscription is confirmed
 * again. A connection can also die without closing (a half-open TCP
 * connection, a cluster node swapped under the subscriber), so each instance
 * sends itself a heartbeat through Redis every `heartbeatMs`; when none has
 * come back for `staleAfterMs`, the feed counts as lost and the subscriber is
 * reconnected.
 */
export class InvalidationBus {
  private readonly logger = new Logger('CacheBus');
  private readonly channel: string;
  private readonly heartbeatChannel: string;
  /** How this instance's own messages begin, so they are skipped without parsing. */
  private readonly ownPrefix: string;
  private subscriber?: RedisClient;
  private timer?: NodeJS.Timeout;
  private subscribed = false;
  private stopped = false;
  private lastHeard = 0;

  constructor(
    private readonly redis: RedisService,
    readonly origin: string,
    private readonly listener: BusListener,
    private readonly timing: BusTiming,
  ) {
    this.channel = redis.channel(INVALIDATION_CHANNEL);
    this.heartbeatChannel = redis.channel(`${HEARTBEAT_CHANNEL_PREFIX}${origin}`);
    this.ownPrefix = `{"o":${JSON.stringify(origin)},`;
  }

  start(): void {
    const subscriber = this.redis.createSubscriber('cache-invalidations');
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      this.lastHeard = Date.now();
      if (channel === this.channel) this.receive(message);
    });
    const lose = () => this.lose('the invalidation feed disconnected');
    subscriber.on('close', lose);
    subscriber.on('end', lose);
    subscriber.on('reconnecting', lose);
    // ioredis subscribes again after reconnecting; the feed counts as complete once Redis confirms it.
    subscriber.on('ready', () => this.subscribe());
    this.subscribe();
    this.timer = setInterval(() => this.beat(), this.timing.heartbeatMs);
    this.timer.unref();
  }

  /** The bus message announcing a change made by this instance. */
  message(change: Change): string {
    if ('pattern' in change) return JSON.stringify({ o: this.origin, p: change.pattern });
    if ('keys' in change) return JSON.stringify({ o: this.origin, ks: change.keys });
    return JSON.stringify(
      change.version === undefined
        ? { o: this.origin, k: change.key }
        : { o: this.origin, k: change.key, v: change.version },
    );
  }

  get isSubscribed(): boolean {
    return this.subscribed;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.lose('the cache is shutting down');
    this.subscriber?.disconnect();
  }

  private subscribe(): void {
    const subscriber = this.subscriber;
    if (!subscriber || this.stopped) return;
    subscriber.subscribe(this.channel, this.heartbeatChannel).then(
      () => {
        if (this.stopped || subscriber.status !== 'ready' || this.subscribed) return;
        this.subscribed = true;
        this.lastHeard = Date.now();
        this.logger.log('Invalidation feed subscribed: L1 in use');
        this.listener.regained();
      },
      () => this.lose('subscribing to the invalidation feed failed'),
    );
  }

  private lose(reason: string): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    if (!this.stopped) this.logger.warn(`${reason}: L1 emptied and bypassed until it is back`);
    this.listener.lost(reason);
  }

  private beat(): void {
    if (this.subscribed && Date.now() - this.lastHeard > this.timing.staleAfterMs) {
      this.lose(`no heartbeat came back through Redis for ${this.timing.staleAfterMs} ms`);
      // The connection looks alive but delivers nothing: replace it.
      if (this.subscriber?.status === 'ready') this.subscriber.disconnect(true);
      return;
    }
    // eslint-disable-next-line no-restricted-syntax -- the bus is pub/sub: its heartbeat is published on the commands connection
    this.redis.client.publish(this.heartbeatChannel, '1').catch(() => undefined);
  }

  private receive(message: string): void {
    if (message.startsWith(this.ownPrefix)) return;
    let parsed: { o?: unknown; k?: unknown; v?: unknown; p?: unknown; ks?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.o !== 'string') {
      this.listener.unreadable();
      return;
    }
    if (parsed.o === this.origin) return;
    if (typeof parsed.k === 'string') {
      const version = typeof parsed.v === 'string' ? parsed.v : undefined;
      this.listener.invalidated({ origin: parsed.o, key: parsed.k, version });
    } else if (Array.isArray(parsed.ks) && parsed.ks.every((k) => typeof k === 'string')) {
      this.listener.invalidated({ origin: parsed.o, keys: parsed.ks as string[] });
    } else if (typeof parsed.p === 'string') {
      this.listener.invalidated({ origin: parsed.o, pattern: parsed.p });
    } else {
      this.listener.unreadable();
    }
  }
}
