import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import { ConfigService, type RedisConfig } from '@lattice/config';
import { evictionWarning, readMemoryPolicies, SAFE_MEMORY_POLICY } from './memory-policy';
import { createRedisClient, type ConnectionRole, type RedisClient } from './redis-options.factory';
import { RedisScript } from './redis.script';

const QUIT_TIMEOUT_MS = 1000;

/**
 * The one owner of Redis connections in a process. Everything that talks to
 * Redis gets its connection here, so every connection shares the key prefix,
 * the time bounds and the shutdown.
 */
/**
 * How long a start-up step waits for its connections before a failure counts
 * as an outage (and is logged as one): connections still being made, or a
 * cluster's masters still being reached, are not a fault.
 */
export const REDIS_STARTUP_WAIT_MS = 5_000;

@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly connections = new Set<RedisClient>();
  private readonly config: RedisConfig;
  private readonly appName: string;
  /** The evicting policy last warned about, so each one is logged once, not on every reconnect. */
  private warnedPolicy?: string;
  /** The shared connection for commands on request paths. */
  readonly client: RedisClient;

  constructor(configService: ConfigService) {
    this.config = configService.get('redis');
    this.appName = configService.get('app');
    this.client = this.connect('commands', 'commands');
  }

  get keyPrefix(): string {
    return this.config.keyPrefix;
  }

  get isCluster(): boolean {
    return this.client instanceof Cluster;
  }

  onModuleInit(): void {
    this.client.on('ready', () => void this.warnIfEvicting());
    // Connecting is not awaited: the app starts (and reports not-ready) even while Redis is down.
    void this.client.connect().catch(() => undefined);
  }

  /**
   * The `maxmemory-policy` of Redis (every master's, joined with `,` when
   * they differ), or null when Redis refuses CONFIG or does not answer in time.
   */
  async memoryPolicy(timeoutMs: number): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      const policies = await Promise.race([readMemoryPolicies(this.client), timeout]);
      return policies?.length ? policies.join(',') : null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One warning line when Redis may evict keys: the platform's data guarantees need noeviction. */
  private async warnIfEvicting(): Promise<void> {
    const policy = await this.memoryPolicy(2_000);
    if (!policy || policy === SAFE_MEMORY_POLICY || policy === this.warnedPolicy) return;
    this.warnedPolicy = policy;
    this.logger.warn(evictionWarning(policy));
  }

  /** A dedicated connection for SUBSCRIBE/SSUBSCRIBE; it re-subscribes after reconnecting. */
  createSubscriber(purpose: string): RedisClient {
    const connection = this.connect('subscriber', purpose);
    void connection.connect().catch(() => undefined);
    return connection;
  }

  /** A dedicated connection for blocking commands (XREADGROUP BLOCK, BLPOP). */
  createBlockingConnection(purpose: string): RedisClient {
    const connection = this.connect('blocking', purpose);
    void connection.connect().catch(() => undefined);
    return connection;
  }

  /**
   * A connection for PUBLISH and SPUBLISH by a library that names its channels
   * itself (the Socket.IO Redis adapter and emitter): give it names made with
   * channel(). It applies no KEY_PREFIX of its own, because ioredis prefixes
   * sharded channel names like keys on the way out. Fails fast while
   * disconnected and is bounded in time, like the shared connection.
   */
  createPublisher(purpose: string): RedisClient {
    const connection = this.connect('commands', purpose, { ...this.config, keyPrefix: '' });
    void connection.connect().catch(() => undefined);
    return connection;
  }

  /**
   * The subscribing side of createPublisher: SUBSCRIBE, PSUBSCRIBE and (one
   * subscriber per shard on a cluster) SSUBSCRIBE, without KEY_PREFIX, because
   * ioredis would prefix SSUBSCRIBE's names but report messages under the
   * names Redis sent. Re-subscribes after reconnecting.
   */
  createChannelSubscriber(purpose: string): RedisClient {
    const connection = this.connect('sharded-subscriber', purpose, {
      ...this.config,
      keyPrefix: '',
    });
    void connection.connect().catch(() => undefined);
    return connection;
  }

  /**
   * A command connection to another standalone Redis, such as one of the
   * independent nodes of quorum locks: same key prefix, time bounds and
   * shutdown as the app's own connection.
   */
  connectStandalone(url: string, purpose: string): RedisClient {
    const config: RedisConfig = { mode: 'standalone', url, keyPrefix: this.config.keyPrefix };
    const connection = this.connect('commands', purpose, config);
    void connection.connect().catch(() => undefined);
    return connection;
  }

  /** A Lua script on the shared connection, loaded from a `.lua` file. */
  script<T = unknown>(files: string | readonly string[], numberOfKeys: number): RedisScript<T> {
    return new RedisScript<T>(this.client, files, numberOfKeys);
  }

  /** Pub/sub channel names are not keys, so the prefix is applied here. */
  channel(name: string): string {
    return `${this.config.keyPrefix}${name}`;
  }

  /**
   * Resolves true when `connection` (the shared one unless given) is ready,
   * or false after `timeoutMs` or once it is closed for good.
   */
  async whenReady(timeoutMs: number, connection: RedisClient = this.client): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (!(await onceReady(connection, timeoutMs))) return false;
    if (!(connection instanceof Cluster)) return true;
    // A cluster is ready once it knows its slots, while each master's own connection may still
    // be being made; a command sent to it meanwhile fails at once (no offline queue).
    const masters = connection.nodes('master');
    for (const node of masters) if (node.status === 'wait') node.connect().catch(() => undefined);
    const ready = await Promise.all(masters.map((node) => onceReady(node, deadline - Date.now())));
    return ready.every(Boolean);
  }

  /**
   * Round trip to Redis bounded by `timeoutMs`; resolves false instead of
   * throwing. On a cluster, to every master (each owns a share of the keys):
   * true only when all answer, rather than whichever node a lone PING reached.
   */
  async ping(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const targets: RedisClient[] =
      this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    const ping = Promise.all(targets.map((target) => target.ping())).then(
      (replies) => replies.length > 0 && replies.every((reply) => reply === 'PONG'),
      () => false,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * How many connections are subscribed to a (classic) pub/sub channel, named
   * with channel(). A cluster's nodes each count their own, so all are asked.
   */
  async subscriberCount(channel: string): Promise<number> {
    const nodes: Redis[] =
      this.client instanceof Cluster ? this.client.nodes('all') : [this.client];
    const replies = await Promise.all(
      nodes.map((node) => node.pubsub('NUMSUB', channel) as Promise<unknown[]>),
    );
    return replies.reduce<number>((sum, reply) => sum + Number(reply[1] ?? 0), 0);
  }

  /**
   * Iterates the keys matching `pattern` (given without the prefix, yielded
   * without it) with SCAN, on every master when clustered. Never KEYS.
   */
  async *scan(pattern: string, count = 500): AsyncGenerator<string[]> {
    const prefix = this.config.keyPrefix;
    const nodes: Redis[] =
      this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        // Node connections of a cluster do not apply the prefix to MATCH, nor does SCAN anywhere.
        const [next, keys] = await node.scan(
          cursor,
          'MATCH',
          `${escapeGlob(prefix)}${pattern}`,
          'COUNT',
          count,
        );
        cursor = next;
        if (keys.length) yield keys.map((k) => k.slice(prefix.length));
      } while (cursor !== '0');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.connections].map((c) => this.close(c)));
  }

  private connect(role: ConnectionRole, purpose: string, config = this.config): RedisClient {
    const connection = createRedisClient(config, role, `${this.appName}:${purpose}`);
    let reported = false;
    connection.on('error', (error: Error) => {
      if (!reported) this.logger.warn(`Redis ${purpose} connection: ${error.message}`);
      reported = true;
    });
    connection.on('ready', () => {
      if (reported) this.logger.log(`Redis ${purpose} connection is back`);
      reported = false;
    });
    this.connections.add(connection);
    return connection;
  }

  private async close(connection: RedisClient): Promise<void> {
    this.connections.delete(connection);
    if (connection.status === 'end') return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.quit(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('quit timed out')), QUIT_TIMEOUT_MS);
        }),
      ]);
    } catch {
      // Not answered in time, or the connection was already down: disconnect() below.
    } finally {
      clearTimeout(timer);
      // After a QUIT too: a Sentinel connection's failover detector keeps its own
      // connections to the Sentinels, which only disconnect() closes.
      connection.disconnect();
    }
  }
}

/** Escapes glob characters so a key prefix matches itself literally in MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Resolves true once `connection` is ready, false when it ends or `timeoutMs` passes first. */
function onceReady(connection: RedisClient, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  if (connection.status === 'end' || timeoutMs <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('end', onEnd);
      resolve(ready);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    connection.on('ready', onReady);
    connection.on('end', onEnd);
  });
}
