import { Module } from '@nestjs/common';
import { MetricsModule } from '@lattice/observability';
import { DrawsGateway } from './draws.gateway';

/**
 * Live updates for the public draw pages: the anonymous, read-only
 * namespace `/draws`, fed by the gateway's prize-draw events through the
 * Redis adapter the presence gateway sets on the shared Socket.IO server.
 */
@Module({ imports: [MetricsModule], providers: [DrawsGateway] })
export class DrawsModule {}
