import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule } from '@lattice/cache';
import type { Config } from '@lattice/config';
import { PlatformModule } from '@lattice/http';
import { PresenceModule } from '@lattice/presence';
import { CacheSyncModule } from './cache-sync/cache-sync.module';
import { PingController } from './ping/ping.controller';
import { PresenceController } from './presence/presence.controller';

/** The public HTTP edge. Feature modules (proxy, cache-sync, draws) are added beside PlatformModule. */
@Module({})
export class GatewayModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PlatformModule.forRoot(config),
        PresenceModule,
        CacheModule.forRoot(),
        CacheSyncModule.forRoot(),
      ],
      controllers: [PingController, PresenceController],
    };
  }
}
