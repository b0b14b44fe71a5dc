import type { Logger } from '@nestjs/common';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { COMMAND_TIMEOUT_MS, type RedisClient, type RedisService } from '@lattice/redis';
import { BUS_PARSER, busChannelOf, SOCKET_IO_BUS } from '@lattice/presence';

/** Commands the adapters send without handling a failure themselves. */
const UNGUARDED = new Set([
  'publish',
  'spublish',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
]);

/**
 * The adapters publish and subscribe fire-and-forget; with a connection that
 * fails fast while Redis is down, each of those would be an unhandled
 * rejection, which ends a Node.js process. This view of the client reports
 * such failures instead (a broadcast during an outage reaches this instance's
 * sockets only).
 */
function guarded(
  client: RedisClient,
  report: (error: unknown) => void,
  subscribing?: Map<string, Promise<unknown>>,
): RedisClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property !== 'string' || !UNGUARDED.has(property)) return method.bind(target);
      return (...args: unknown[]) => {
        const result = method.apply(target, args);
        if (!(result instanceof Promise)) return result;
        const handled = result.catch((error: unknown) => report(error));
        if (property === 'ssubscribe' && subscribing && typeof args[0] === 'string') {
          const channel = args[0];
          subscribing.set(channel, handled);
          void handled.finally(() => {
            if (subscribing.get(channel) === handled) subscribing.delete(channel);
          });
        }
        return handled;
      };
    },
  });
}

export interface SocketBus {
  /** The adapter constructor for `server.adapter()`. */
  adapter: ReturnType<typeof createAdapter> | ReturnType<typeof createShardedAdapter>;
  /** Logs a failure of the bus (once per outage). */
  report(error: unknown): void;
  /** Whether broadcasts currently reach the other instances. */
  isUp(): boolean;
  /**
   * Resolves once this instance receives what is published to `room` (at
   * most COMMAND_TIMEOUT_MS later). On a cluster the sharded adapter
   * subscribes to a room's channel when the room's first local socket joins,
   * without waiting; an event published before Redis took that SSUBSCRIBE
   * would be lost for every socket of the room here.
   */
  roomReady(room: string): Promise<void>;
}

/**
 * The Socket.IO Redis adapter that makes every realtime instance one server:
 * classic pub/sub on a standalone or Sentinel Redis, sharded pub/sub
 * (SPUBLISH/SSUBSCRIBE, one channel per room) on a cluster. Channel names
 * carry KEY_PREFIX and messages are JSON, as the presence scripts and
 * `PresencePublisher` write them.
 */
export function createSocketBus(redis: RedisService, logger: Pick<Logger, 'warn'>): SocketBus {
  const publisher = redis.createPublisher('socket.io-pub');
  const subscriber = redis.createChannelSubscriber('socket.io-sub');
  // Said once per outage: a failed broadcast is expected while Redis is away.
  let reported = false;
  const report = (error: unknown) => {
    if (reported) return;
    reported = true;
    const message = error instanceof Error ? error.message : String(error);
    logger.warn(
      `Socket.IO Redis bus failed (${message}); broadcasts reach this instance only until it is back`,
    );
  };
  publisher.on('ready', () => (reported = false));
  const pub = guarded(publisher, report);
  const subscribing = new Map<string, Promise<unknown>>();
  const sub = guarded(subscriber, report, subscribing);
  const adapter = redis.isCluster
    ? createShardedAdapter(pub, sub, {
        channelPrefix: redis.channel(SOCKET_IO_BUS),
        subscriptionMode: 'dynamic',
      })
    : createAdapter(pub, sub, { key: redis.channel(SOCKET_IO_BUS), parser: BUS_PARSER });
  return {
    adapter,
    report,
    isUp: () => publisher.status === 'ready' && subscriber.status === 'ready',
    roomReady: async (room) => {
      const pending = subscribing.get(busChannelOf(redis.keyPrefix, room));
      if (!pending) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        pending,
        new Promise((resolve) => (timer = setTimeout(resolve, COMMAND_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
    },
  };
}
