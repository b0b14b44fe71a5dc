import { Module } from '@nestjs/common';
import { PresenceModule } from '@lattice/presence';
import { EdgePolicy } from './edge.policy';
import { EdgeProxy } from './edge.proxy';
import { RouteTableSource } from './route-table.source';
import { SocketSessionRouter } from './socket-session.router';

/** The edge: /auth, /realtime, /socket.io and every ROUTES prefix forwarded to its upstream. */
@Module({
  imports: [PresenceModule],
  providers: [RouteTableSource, EdgePolicy, EdgeProxy, SocketSessionRouter],
  exports: [RouteTableSource],
})
export class ProxyModule {}
