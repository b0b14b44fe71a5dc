import { Module } from '@nestjs/common';
import { HealthModule } from '@lattice/health';
import { MetricsModule } from '@lattice/observability';
import { PresenceModule } from '@lattice/presence';
import { RateLimitModule } from '@lattice/rate-limit';
import { RedisModule } from '@lattice/redis';
import { SessionModule } from '@lattice/session';
import { SocketRoutingModule } from '../routing/socket-routing.module';
import { ChannelMessenger } from './channel.messenger';
import { ConnectionRecovery } from './connection.recovery';
import { ConnectionRegistry } from './connection.registry';
import { ConnectionRestorer } from './connection.restorer';
import { MembershipLedger } from './membership.ledger';
import { PresenceBroadcaster } from './presence.broadcaster';
import { PresenceController } from './presence.controller';
import { PresenceGateway } from './presence.gateway';
import { PresenceService } from './presence.service';
import { PresenceWorker } from './presence.worker';
import { RecoveryRecorder } from './recovery.recorder';
import { RecoveryRepository } from './recovery.repository';
import { SessionWatcher } from './session.watcher';
import { SocketAuthenticator } from './socket.authenticator';

/**
 * Socket.IO presence and channel messages (CONTRACT 5) on the app's HTTP
 * server: the gateway and its events, this process as a presence worker and
 * its memberships, connection recovery, session revocation, and
 * GET /realtime/presence/:channel. Named apart from @lattice/presence's
 * PresenceModule (the store in Redis), which it imports.
 */
@Module({
  imports: [
    PresenceModule,
    RedisModule,
    SessionModule,
    HealthModule,
    MetricsModule,
    RateLimitModule,
    SocketRoutingModule,
  ],
  controllers: [PresenceController],
  providers: [
    ConnectionRegistry,
    RecoveryRepository,
    RecoveryRecorder,
    ConnectionRestorer,
    ConnectionRecovery,
    PresenceBroadcaster,
    PresenceWorker,
    MembershipLedger,
    PresenceService,
    ChannelMessenger,
    SessionWatcher,
    SocketAuthenticator,
    PresenceGateway,
  ],
})
export class RealtimePresenceModule {}
