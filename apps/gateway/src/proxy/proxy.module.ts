import { Module } from '@nestjs/common';
import { EdgePolicy } from './edge.policy';
import { EdgeProxy } from './edge.proxy';
import { RouteTableSource } from './route-table.source';

/** The edge: /auth, /realtime, /socket.io and every ROUTES prefix forwarded to its upstream. */
@Module({
  providers: [RouteTableSource, EdgePolicy, EdgeProxy],
  exports: [RouteTableSource],
})
export class ProxyModule {}
