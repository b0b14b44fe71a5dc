import { Module } from '@nestjs/common';
import { MetricsModule } from '@lattice/observability';
import { RedisModule } from '@lattice/redis';
import { PresenceLeases } from './presence.leases';
import { PresencePublisher } from './presence.publisher';
import { PresenceReaper } from './presence.reaper';
import { PresenceStore } from './presence.store';
import { SocketRoutesRepository } from './socket-routes.repository';

/**
 * Presence in Redis for any app: PresenceStore to read who is in a channel
 * (and, in the realtime app, to record it), PresencePublisher to emit events
 * to a channel's connections, PresenceLeases for the realtime workers,
 * SocketRoutesRepository for where each Socket.IO session lives (realtime
 * instances write it, gateways route by it).
 * Runs on RedisModule's connections and records its reaper's work in MetricsModule.
 */
@Module({
  imports: [RedisModule, MetricsModule],
  providers: [
    PresenceStore,
    PresenceLeases,
    PresenceReaper,
    PresencePublisher,
    SocketRoutesRepository,
  ],
  exports: [
    PresenceStore,
    PresenceLeases,
    PresenceReaper,
    PresencePublisher,
    SocketRoutesRepository,
  ],
})
export class PresenceModule {}
