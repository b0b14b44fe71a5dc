import { Module } from '@nestjs/common';
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
 * Needs ConfigModule and RedisModule (PlatformModule has them).
 */
@Module({
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
