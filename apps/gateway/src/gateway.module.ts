import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule } from '@lattice/cache';
import type { Config } from '@lattice/config';
import { DocsModule, PlatformModule } from '@lattice/http';
import { PresenceModule } from '@lattice/presence';
import { CacheSyncModule } from './cache-sync/cache-sync.module';
import { GATEWAY_DOCUMENT } from './docs/gateway-document';
import { PlatformDocument } from './docs/platform-document.service';
import { PingController } from './ping/ping.controller';
import { PresenceController } from './presence/presence.controller';
import { PrizeDrawModule } from './prize-draw/prize-draw.module';
import { ProxyModule } from './proxy/proxy.module';
import { RateLimitsModule } from './rate-limits/rate-limits.module';

/**
 * The public HTTP edge: its own APIs, and every other path forwarded by
 * ProxyModule. Each feature module imports the lib modules it uses; the
 * cache's options are set here, once (CacheModule.forRoot).
 */
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
        DocsModule.forRoot(GATEWAY_DOCUMENT, { source: PlatformDocument }),
        PrizeDrawModule.forRoot(),
        RateLimitsModule,
        ProxyModule,
      ],
      controllers: [PingController, PresenceController],
    };
  }
}
