import { Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import type { Gauge } from 'prom-client';
import { LatticeError } from '@lattice/common';
import { MetricsService } from '@lattice/observability';
import { DRAWS_NAMESPACE, drawRoom, subscribedDraw } from './draw-subscription';
import { SOCKET_MESSAGE_LIMIT_BYTES } from '@lattice/http';

/**
 * Live updates for the public draw pages: an anonymous, read-only namespace
 * beside CONTRACT 5's `/` (which needs a session). A connection names one
 * draw in its handshake and is put in that draw's room, nothing else; it
 * cannot join another room or send anything (a client that emits is
 * disconnected). The gateway publishes the draw's events to the room through
 * Redis; the Redis adapter, set on the server by the presence gateway,
 * carries them to every realtime instance.
 */
@WebSocketGateway({
  namespace: DRAWS_NAMESPACE,
  serveClient: false,
  // The same as the main namespace's, so whichever gateway Nest sets up first
  // creates the shared Socket.IO server with these settings.
  maxHttpBufferSize: SOCKET_MESSAGE_LIMIT_BYTES,
})
export class DrawsGateway
  implements
    OnGatewayInit<Namespace>,
    OnGatewayConnection<Socket>,
    OnGatewayDisconnect<Socket>,
    BeforeApplicationShutdown
{
  private readonly logger = new Logger('DrawWatchers');
  private readonly watchers: Gauge;

  @WebSocketServer()
  private namespace?: Namespace;

  constructor(metrics: MetricsService) {
    this.watchers = metrics.gauge(
      'lattice_realtime_draw_watchers',
      'Connections watching a prize draw (namespace /draws)',
    );
  }

  afterInit(namespace: Namespace): void {
    namespace.use((socket, next) => {
      try {
        (socket.data as { draw?: string }).draw = subscribedDraw(socket.handshake);
        next();
      } catch (error) {
        // The connect_error a client sees: its message is the stable code, as on `/`.
        const code = error instanceof LatticeError ? error.code : 'VALIDATION_FAILED';
        const refusal = new Error(code) as Error & { data: unknown };
        refusal.data = { code, message: (error as Error).message };
        next(refusal);
      }
    });
  }

  handleConnection(socket: Socket): void {
    const data = socket.data as { draw?: string; watching?: boolean };
    if (!data.draw) return void socket.disconnect(true);
    void socket.join(drawRoom(data.draw));
    data.watching = true;
    this.watchers.inc();
    // Read-only: whatever a client sends ends its connection.
    socket.onAny(() => socket.disconnect(true));
  }

  handleDisconnect(socket: Socket): void {
    if ((socket.data as { watching?: boolean }).watching) this.watchers.dec();
  }

  /** Connections are closed at the transport, so pages reconnect to another instance by themselves. */
  beforeApplicationShutdown(): void {
    const sockets = this.namespace ? [...this.namespace.sockets.values()] : [];
    for (const socket of sockets) socket.conn.close();
    if (sockets.length) this.logger.log(`Closed ${sockets.length} draw watcher connections`);
  }
}
