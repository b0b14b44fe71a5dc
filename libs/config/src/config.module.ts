import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Config } from './config.types';
import { ConfigService } from './config.service';

// Global, like @nestjs/config's isGlobal: the app has one validated config,
// given once at its root (forRoot(config)), and a module deeper down cannot
// say "the app's config" with an import of its own.
@Global()
@Module({})
export class ConfigModule {
  /** Takes a configuration already validated by `loadConfig` (in main.ts or a test). */
  static forRoot(config: Config): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: ConfigService, useValue: new ConfigService(config) }],
      exports: [ConfigService],
    };
  }
}
