import { Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import {
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { LatticeError } from '@lattice/common';
import { ShutdownState } from '@lattice/health';
import { MetricsService, tracedFrom } from '@lattice/observability';
import { RedisService } from '@lattice/redis';
import type { Gauge } from 'prom-client';
import { RealtimeUnavailableError } from './realtime.errors';
import type { Ack } from './presence-events';
import { PresenceBroadcaster } from './presence.broadcaster';
import { PresenceService } from './presence.service';
import { ChannelMessenger } from './channel.messenger';
import type { ConnectionUser } from './realtime.connection';
import { SessionWatcher } from './session.watcher';
import { connectError, SocketAuthenticator } from './socket.authenticator';
import { createSocketBus } from './socket-adapter.factory';
import { ConnectionRecovery } from './connection.recovery';
import type { RestoredState } from './connection.restorer';
import { SocketRoutesAnnouncer } from '../routing/socket-routes.announcer';
import { SOCKET_MESSAGE_LIMIT_BYTES } from '@lattice/http';

type Handler = (socketId: string, payload: unknown) => Promise<Ack>;

/** Makes a socket that Socket.IO recovered a new one: a new private id, no rooms, nothing replayed. */
function unrecover(socket: Socket): void {
  (socket as { recovered: boolean }).recovered = false;
  (socket as unknown as { pid: string }).pid = randomBytes(15).toString('base64url');
  for (const room of [...socket.rooms]) if (room !== socket.id) void socket.leave(room);
  delete (socket.data as { recovery?: RestoredState }).recovery;
}

/**
 * Socket.IO on the app's own HTTP server (path `/socket.io/`), made one
 * server across every realtime instance by the Redis adapter. Handshakes need
 * a session; the events are CONTRACT 5's.
 */
@WebSocketGateway({ serveClient: false, maxHttpBufferSize: SOCKET_MESSAGE_LIMIT_BYTES })
export class PresenceGateway
  implements
    OnGatewayInit<Server>,
    OnGatewayConnection<Socket>,
    OnGatewayDisconnect<Socket>,
    BeforeApplicationShutdown
{
  private readonly logger = new Logger('Realtime');
  private readonly connections: Gauge;
  /** CONTRACT 5's client events. */
  private readonly handlers: Record<string, Handler> = {
    'presence:join': (id, payload) => this.presence.join(id, payload),
    'presence:leave': (id, payload) => this.presence.leave(id, payload),
    'presence:update': (id, payload) => this.presence.update(id, payload),
    'channel:message': (id, payload) => this.messenger.message(id, payload),
    'channel:history': (id, payload) => this.messenger.history(id, payload),
  };

  constructor(
    private readonly presence: PresenceService,
    private readonly messenger: ChannelMessenger,
    private readonly broadcaster: PresenceBroadcaster,
    private readonly authenticator: SocketAuthenticator,
    private readonly watcher: SessionWatcher,
    private readonly redis: RedisService,
    private readonly shutdown: ShutdownState,
    private readonly routes: SocketRoutesAnnouncer,
    private readonly recovery: ConnectionRecovery,
    metrics: MetricsService,
  ) {
    this.connections = metrics.gauge('lattice_realtime_connections', 'Connected sockets');
  }

  afterInit(server: Server): void {
    const bus = createSocketBus(this.redis, this.logger);
    server.adapter(bus.adapter);
    server.of('/').adapter.on('error', (error: unknown) => bus.report(error));
    this.broadcaster.attach(bus);
    this.recovery.attach(server);
    this.routes.attach(server);
    // Turned away at the transport while shutting down, so clients retry (another instance).
    server.engine.opts.allowRequest = (_request, callback) =>
      callback(null, !this.shutdown.isShuttingDown && !this.presence.isClosing);
    server.use((socket, next) => {
      // A span in the trace of the request that opened the connection (its traceparent, from the gateway).
      tracedFrom(socket.handshake.headers, 'socket.handshake', {}, () =>
        this.authenticator.authenticate(socket.handshake),
      ).then(
        (user) => {
          const data = socket.data as { user?: ConnectionUser; recovery?: RestoredState };
          data.user = user;
          // A recovered state belongs to its user only; anyone else starts afresh.
          if (socket.recovered && data.recovery?.userId !== user.userId) unrecover(socket);
          next();
        },
        (error: unknown) => {
          this.recovery.forget(socket.id);
          if (error instanceof LatticeError) return next(connectError(error));
          this.logger.error({ err: error }, 'Socket handshake failed');
          next(connectError(new RealtimeUnavailableError()));
        },
      );
    });
  }

  handleConnection(socket: Socket): void {
    const user = (socket.data as { user?: ConnectionUser }).user;
    if (!user) return void socket.disconnect(true);
    // The session may have been revoked between its check and now.
    if (this.watcher.wasRevoked(user.sessionId)) return void socket.disconnect();
    const connection = this.presence.connected(socket, user);
    this.connections.inc();
    const restored = (socket.data as { recovery?: RestoredState }).recovery;
    if (socket.recovered && restored) this.presence.resumed(connection, restored);
    else this.presence.started(connection);
    // Plain listeners rather than @SubscribeMessage: Nest wires each of those
    // with rxjs streams per socket, about 4 KiB of heap per event per connection.
    for (const [event, handle] of Object.entries(this.handlers)) {
      socket.on(event, (...args: unknown[]) => {
        const ack = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
        // Handlers answer every failure themselves; an event without an acknowledgement gets none.
        void handle(socket.id, args[0]).then((answer) =>
          (ack as ((a: Ack) => void) | undefined)?.(answer),
        );
      });
    }
  }

  handleDisconnect(socket: Socket): void {
    if (this.presence.disconnected(socket.id)) this.connections.dec();
  }

  /** Before Nest closes the Socket.IO server and Redis: connections out, presence removed. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.presence.shutdown();
  }
}
