import { Global, Module, type DynamicModule } from '@nestjs/common';
import { RATE_LIMIT_OPTIONS } from './rate-limit.di-tokens';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitService } from './rate-limit.service';
import type { RateLimitModuleOptions } from './rate-limit.types';

/**
 * Provides RateLimitService to the whole app (socket gateways and handlers use
 * it directly) and RateLimitGuard, which the app registers as an APP_GUARD.
 * Needs ConfigModule, RedisModule and ObservabilityModule (PlatformModule has them).
 */
@Global()
@Module({})
export class RateLimitModule {
  static forRoot(options: RateLimitModuleOptions = {}): DynamicModule {
    return {
      module: RateLimitModule,
      providers: [
        { provide: RATE_LIMIT_OPTIONS, useValue: options },
        RateLimitService,
        RateLimitGuard,
      ],
      exports: [RateLimitService, RateLimitGuard],
    };
  }
}
