import { Module } from '@nestjs/common';
import { CacheModule } from '@lattice/cache';
import { MetricsModule } from '@lattice/observability';
import { PresenceModule } from '@lattice/presence';
import { RateLimitModule } from '@lattice/rate-limit';
import { RedisModule } from '@lattice/redis';
import { EdgePolicy } from './edge.policy';
import { EdgeProxy } from './edge.proxy';
import { RouteTableSource } from './route-table.source';
import { SocketSessionRouter } from './socket-session.router';

/** The edge: /auth, /realtime, /socket.io and every ROUTES prefix forwarded to its upstream. */
@Module({
  imports: [PresenceModule, CacheModule, RateLimitModule, RedisModule, MetricsModule],
  providers: [RouteTableSource, EdgePolicy, EdgeProxy, SocketSessionRouter],
  exports: [RouteTableSource],
})
export class ProxyModule {}
