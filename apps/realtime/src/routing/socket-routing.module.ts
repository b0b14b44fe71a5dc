import { Module } from '@nestjs/common';
import { PresenceModule } from '@lattice/presence';
import { RedisModule } from '@lattice/redis';
import { SocketRoutesAnnouncer } from './socket-routes.announcer';

/**
 * Where each Socket.IO session of this instance lives, announced in Redis so
 * that any gateway routes its requests here (the presence gateway attaches
 * the announcer to the Socket.IO server).
 */
@Module({
  imports: [PresenceModule, RedisModule],
  providers: [SocketRoutesAnnouncer],
  exports: [SocketRoutesAnnouncer],
})
export class SocketRoutingModule {}
