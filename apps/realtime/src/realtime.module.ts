import { ConnectionRecovery } from './presence/connection.recovery';
import { RecoveryRepository } from './presence/recovery.repository';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@lattice/config';
import { DocsModule, PlatformModule } from '@lattice/http';
import { PresenceModule } from '@lattice/presence';
import { DrawsGateway } from './draws/draws.gateway';
import { ConnectionRegistry } from './presence/connection.registry';
import { PresenceBroadcaster } from './presence/presence.broadcaster';
import { PresenceGateway } from './presence/presence.gateway';
import { PRESENCE_RATE_LIMITS, PresenceService } from './presence/presence.service';
import { PresenceWorker } from './presence/presence.worker';
import { SessionWatcher } from './presence/session.watcher';
import { SocketAuthenticator } from './presence/socket.authenticator';
import { REALTIME_CONTROLLERS, REALTIME_DOCUMENT } from './realtime.openapi';
import { SocketRoutesAnnouncer } from './routing/socket-routes.announcer';

/**
 * Socket.IO presence and channel messages (CONTRACT 5) beside PlatformModule:
 * the gateway on the app's HTTP server, this process as a presence worker,
 * and GET /realtime/presence/:channel.
 */
@Module({})
export class RealtimeModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: RealtimeModule,
      imports: [
        PlatformModule.forRoot(config, { rateLimitPolicies: PRESENCE_RATE_LIMITS }),
        PresenceModule,
        DocsModule.forRoot(REALTIME_DOCUMENT),
      ],
      controllers: REALTIME_CONTROLLERS,
      providers: [
        ConnectionRegistry,
        ConnectionRecovery,
        RecoveryRepository,
        PresenceBroadcaster,
        PresenceWorker,
        PresenceService,
        SessionWatcher,
        SocketAuthenticator,
        SocketRoutesAnnouncer,
        PresenceGateway,
        DrawsGateway,
      ],
    };
  }
}
