import { Module, type DynamicModule, type ModuleMetadata, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsModule } from '@lattice/observability';
import { RedisModule } from '@lattice/redis';
import { RateLimitPoliciesCheck } from './rate-limit-policies.check';
import { RateLimitRootModule } from './rate-limit-root.module';
import { RATE_LIMIT_OPTIONS } from './rate-limit.di-tokens';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitHealthIndicator } from './rate-limit.health';
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
 * RateLimitService (socket gateways and handlers use it directly),
 * RateLimitOverrides, RateLimitGuard, which the app registers as an
 * APP_GUARD, and RateLimitHealthIndicator (readiness's `rateLimit` entry),
 * for the modules that import this one: a static module, so every import
 * shares the app's one limiter. The app declares its named policies
 * once at its root with `RateLimitModule.forRoot({ policies })` (beside the
 * environment's); a name given twice, or named by @RateLimit and not
 * declared, fails the start.
 */
@Module({
  imports: [DiscoveryModule, TerminusModule, RedisModule, MetricsModule],
  providers: [
    RateLimitOverrides,
    RateLimitService,
    RateLimitGuard,
    RateLimitPoliciesCheck,
    RateLimitHealthIndicator,
  ],
  exports: [RateLimitService, RateLimitGuard, RateLimitOverrides, RateLimitHealthIndicator],
})
export class RateLimitModule {
  /** The app's options; import it once, at the root (beside RateLimitModule where used). */
  static forRoot(options: RateLimitModuleOptions = {}): DynamicModule {
    return RateLimitModule.root({ provide: RATE_LIMIT_OPTIONS, useValue: options });
  }

  static forRootAsync(options: RateLimitModuleAsyncOptions): DynamicModule {
    return RateLimitModule.root(
      {
        provide: RATE_LIMIT_OPTIONS,
        useFactory: options.useFactory,
        inject: (options.inject ?? []) as never[],
      },
      options.imports,
    );
  }

  private static root(options: Provider, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: RateLimitRootModule,
      // Global for its one provider, RATE_LIMIT_OPTIONS: the policies are the
      // app's, declared once at its root, and RateLimitModule (imported by
      // every user of the limiter) must read them without importing the root.
      global: true,
      imports: [RateLimitModule, ...imports],
      providers: [options],
      exports: [RATE_LIMIT_OPTIONS],
    };
  }
}
