import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '@lattice/config';
import { CommandWatchdog } from './command.watchdog';
import { READONLY_REPLY } from './redis-errors';

export type RedisClient = Redis | Cluster;

/** How long any command on a request-path connection may take before it fails. */
export const COMMAND_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;

export type ConnectionRole =
  /** Request paths: fails fast while disconnected, every command bounded in time. */
  | 'commands'
  /** Pub/sub: re-subscribes after a reconnect; no command timeout (it waits for messages). */
  | 'subscriber'
  /** Blocking reads such as XREADGROUP BLOCK: no command timeout, fails fast while disconnected. */
  | 'blocking'
  /** A subscriber that may also SSUBSCRIBE: on a cluster, one subscriber per shard. */
  | 'sharded-subscriber';

const reconnectDelay = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 6), 2000);

function baseOptions(role: ConnectionRole, keyPrefix: string, name: string): RedisOptions {
  const subscriber = role === 'subscriber' || role === 'sharded-subscriber';
  return {
    keyPrefix,
    connectionName: name,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // No `commandTimeout`: it arms a timer per command; the 'commands' role is
    // bounded by a CommandWatchdog instead (createRedisClient).
    // Nothing waits in an offline queue: a command sent while disconnected fails at once.
    enableOfflineQueue: subscriber,
    // A command in flight when the connection drops is failed, never sent twice.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: subscriber ? null : 0,
    retryStrategy: reconnectDelay,
    enableReadyCheck: true,
    // A master demoted by a failover answers writes with READONLY while the
    // connection stays up: reconnect (through the Sentinels, or DNS for a
    // managed endpoint) to reach the new master. The refused command fails; it
    // is not resent.
    reconnectOnError: (error) => error.message.startsWith(READONLY_REPLY),
  };
}

export function createRedisClient(
  config: RedisConfig,
  role: ConnectionRole,
  name: string,
): RedisClient {
  const client = createUnwatchedClient(config, role, name);
  // Every command on a request-path connection fails after COMMAND_TIMEOUT_MS
  // (up to one sweep later) with ioredis's "Command timed out".
  return role === 'commands' ? CommandWatchdog.watch(client, COMMAND_TIMEOUT_MS) : client;
}

function createUnwatchedClient(
  config: RedisConfig,
  role: ConnectionRole,
  name: string,
): RedisClient {
  const options = baseOptions(role, config.keyPrefix, name);
  switch (config.mode) {
    case 'standalone':
      return new Redis(config.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: config.sentinels,
        name: config.masterName,
        role: 'master',
        // Reconnect as soon as a Sentinel announces +switch-master, not at the first failed command.
        failoverDetector: true,
        // Every Sentinel unreachable: keep asking, with the same capped backoff; the
        // failover detector's own Sentinel connections reconnect the same way.
        sentinelRetryStrategy: reconnectDelay,
        sentinelReconnectStrategy: reconnectDelay,
        // A Sentinel that accepts the connection but does not answer must not stall a reconnect.
        sentinelCommandTimeout: CONNECT_TIMEOUT_MS,
      });
    case 'cluster': {
      const { keyPrefix, enableOfflineQueue, retryStrategy, ...redisOptions } = options;
      void retryStrategy;
      const clusterOptions: ClusterOptions = {
        keyPrefix,
        enableOfflineQueue,
        lazyConnect: true,
        scaleReads: 'master',
        clusterRetryStrategy: reconnectDelay,
        slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
        // SSUBSCRIBE must reach the shard that owns the channel's slot.
        shardedSubscribers: role === 'sharded-subscriber',
        redisOptions,
      };
      return new Cluster(config.nodes, clusterOptions);
    }
  }
}

/**
 * A plain connection to one standalone Redis for tools and tests that must
 * read or write raw keys (no prefix, no time bounds). Apps use RedisService.
 */
export function createPlainConnection(url: string): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
}

/**
 * The same for a Redis Cluster (`host:port` of any of its nodes): commands go
 * to the master of their key's slot; `nodes('master')` reaches each master.
 */
export function createPlainClusterConnection(nodes: readonly string[]): Cluster {
  return new Cluster(
    nodes.map((node) => {
      const at = node.lastIndexOf(':');
      return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
    }),
    { redisOptions: { maxRetriesPerRequest: 1 }, clusterRetryStrategy: () => null },
  );
}
