import { Injectable } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import { ValidationFailedError } from '@lattice/common';
import { COMMAND_TIMEOUT_MS, RedisService, type RedisClient } from '@lattice/redis';
import { PresenceUnavailableError } from './presence.errors';
import { CHANNEL_NAME, isJsonValue } from './presence-input';
import { BUS_PARSER, busChannelOf, roomOf, SOCKET_IO_BUS } from './presence-keys';
import { orUnavailable } from './presence-unavailable';

const EVENT_NAME = /^[A-Za-z0-9:_.-]{1,64}$/;
/** The main namespace, or `/` and a name (such as the realtime app's anonymous `/draws`). */
const NAMESPACE = /^\/(?:[A-Za-z0-9_-]{1,64})?$/;

/** Socket.IO's own events, and the events whose meaning belongs to the realtime app. */
const RESERVED_EVENTS = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'error',
  'newListener',
  'removeListener',
  'channel:message',
]);

/** socket.io-adapter's ClusterAdapter message type BROADCAST, and socket.io-parser's EVENT packet. */
const CLUSTER_BROADCAST = 3;
const EVENT_PACKET = 2;

export interface PublishOptions {
  /** The Socket.IO namespace whose connections in the channel's room get the event; `/` by default. */
  namespace?: string;
}

/**
 * Emits events to the members of a channel from any app (the gateway
 * announcing draw results, a worker, a script), through Redis, without a
 * Socket.IO server of its own: every realtime instance delivers the event to
 * its connections in the channel.
 *
 * On a standalone or Sentinel Redis it is `@socket.io/redis-emitter`; on a
 * cluster the realtime app runs the sharded adapter (SPUBLISH), which that
 * emitter cannot reach, so the same broadcast is sent in the sharded
 * adapter's own message format.
 */
@Injectable()
export class PresencePublisher {
  private connection?: RedisClient;
  private firstConnect?: Promise<void>;
  private emitter?: Emitter;
  /** The publish the emitter just started: it publishes synchronously and returns nothing. */
  private lastPublish?: Promise<unknown>;

  constructor(private readonly redis: RedisService) {}

  /**
   * Sends `event` with `payload` to every connection in `channel` (the room
   * `roomOf(channel)` of the namespace, `/` unless `options.namespace` names
   * another). Resolves once Redis accepted the message (connections get it
   * at once); rejects with VALIDATION_FAILED for a bad channel, event,
   * namespace or payload and with UNAVAILABLE when Redis cannot be reached.
   */
  async publish(
    channel: string,
    event: string,
    payload: unknown,
    options: PublishOptions = {},
  ): Promise<void> {
    const namespace = options.namespace ?? '/';
    if (!NAMESPACE.test(namespace)) {
      throw new ValidationFailedError(
        'namespace must be "/" or "/" and 1 to 64 characters of a-z A-Z 0-9 _ -',
      );
    }
    if (!CHANNEL_NAME.test(channel)) {
      throw new ValidationFailedError('channel must be 1 to 100 characters of a-z A-Z 0-9 : _ . -');
    }
    if (!EVENT_NAME.test(event) || RESERVED_EVENTS.has(event) || event.startsWith('presence:')) {
      throw new ValidationFailedError(
        'event must be 1 to 64 characters of a-z A-Z 0-9 : _ . -, and not a reserved event',
      );
    }
    if (payload !== undefined && !isJsonValue(payload)) {
      throw new ValidationFailedError('payload must be plain JSON');
    }
    const room = roomOf(channel);
    const args = payload === undefined ? [] : [payload];
    const client = await this.connected();
    if (this.redis.isCluster) {
      await orUnavailable(() => this.publishSharded(client, namespace, room, event, args));
      return;
    }
    this.lastPublish = undefined;
    const emitter = this.getEmitter();
    (namespace === '/' ? emitter : emitter.of(namespace)).to(room).emit(event, ...args);
    const sent = this.lastPublish as Promise<unknown> | undefined;
    if (sent) await orUnavailable(() => sent);
  }

  /**
   * The publishing connection, made on first use. The first publish waits
   * for it to connect (bounded); later ones fail fast while Redis is away.
   */
  private async connected(): Promise<RedisClient> {
    if (!this.connection) {
      const connection = this.redis.createPublisher('presence-publisher');
      this.connection = connection;
      this.firstConnect = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, COMMAND_TIMEOUT_MS);
        connection.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await this.firstConnect;
    if (this.connection.status !== 'ready') throw new PresenceUnavailableError();
    return this.connection;
  }

  private getEmitter(): Emitter {
    // The emitter is handed a client whose publish it cannot lose track of:
    // its own calls are fire-and-forget, which would leave a Redis failure unhandled.
    this.emitter ??= new Emitter(
      {
        publish: (channel: string, message: string | Buffer) => {
          this.lastPublish = this.connection?.publish(channel, message);
          return this.lastPublish;
        },
      },
      { key: this.redis.channel(SOCKET_IO_BUS), parser: BUS_PARSER },
    );
    return this.emitter;
  }

  private async publishSharded(
    client: RedisClient,
    namespace: string,
    room: string,
    event: string,
    args: unknown[],
  ): Promise<void> {
    // roomOf() never gives a 20-character room, which the sharded adapter would take for a socket id.
    const channel = busChannelOf(this.redis.keyPrefix, room, namespace);
    const message = JSON.stringify({
      uid: 'emitter',
      nsp: namespace,
      type: CLUSTER_BROADCAST,
      data: {
        opts: { rooms: [room], except: [], flags: {} },
        packet: { type: EVENT_PACKET, data: [event, ...args], nsp: namespace },
      },
    });
    await client.spublish(channel, message);
  }
}
