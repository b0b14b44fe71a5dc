import { Global, Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RateLimitPoliciesCheck } from './rate-limit-policies.check';
import { RATE_LIMIT_OPTIONS } from './rate-limit.di-tokens';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitOverrides } from './rate-limit.overrides';
import { RateLimitService } from './rate-limit.service';
import type { RateLimitModuleOptions } from './rate-limit.types';

/** RateLimitModule.forRootAsync: options made by a factory with injected providers. */
export interface RateLimitModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: unknown[];
  useFactory: (...args: never[]) => RateLimitModuleOptions | Promise<RateLimitModuleOptions>;
}

/**
 * Provides RateLimitService to the whole app (socket gateways and handlers use
 * it directly) and RateLimitGuard, which the app registers as an APP_GUARD.
 * `policies` declares the named policies beside the environment's; a name
 * given twice, or named by @RateLimit and not declared, fails the start.
 * Needs ConfigModule, RedisModule and ObservabilityModule (PlatformModule has them).
 */
@Global()
@Module({})
export class RateLimitModule {
  static forRoot(options: RateLimitModuleOptions = {}): DynamicModule {
    return RateLimitModule.with([{ provide: RATE_LIMIT_OPTIONS, useValue: options }]);
  }

  static forRootAsync(options: RateLimitModuleAsyncOptions): DynamicModule {
    return RateLimitModule.with(
      [
        {
          provide: RATE_LIMIT_OPTIONS,
          useFactory: options.useFactory,
          inject: (options.inject ?? []) as never[],
        },
      ],
      options.imports,
    );
  }

  private static with(
    providers: NonNullable<ModuleMetadata['providers']>,
    imports: ModuleMetadata['imports'] = [],
  ): DynamicModule {
    return {
      module: RateLimitModule,
      imports: [DiscoveryModule, ...imports],
      providers: [
        ...providers,
        RateLimitOverrides,
        RateLimitService,
        RateLimitGuard,
        RateLimitPoliciesCheck,
      ],
      exports: [RateLimitService, RateLimitGuard, RateLimitOverrides],
    };
  }
}
