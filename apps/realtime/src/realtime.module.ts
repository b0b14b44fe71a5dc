import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@lattice/config';
import { DocsModule, PlatformModule } from '@lattice/http';
import { DrawsModule } from './draws/draws.module';
import { PRESENCE_RATE_LIMITS } from './presence/presence.service';
import { RealtimePresenceModule } from './presence/realtime-presence.module';
import { REALTIME_DOCUMENT } from './realtime.openapi';

/**
 * The realtime app: PlatformModule, its OpenAPI document, and its feature
 * modules — presence and channel messages (CONTRACT 5), and the draw pages'
 * live updates — each registering its own controllers and gateways.
 */
@Module({})
export class RealtimeModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: RealtimeModule,
      imports: [
        PlatformModule.forRoot(config, { rateLimitPolicies: PRESENCE_RATE_LIMITS }),
        DocsModule.forRoot(REALTIME_DOCUMENT),
        RealtimePresenceModule,
        DrawsModule,
      ],
    };
  }
}
