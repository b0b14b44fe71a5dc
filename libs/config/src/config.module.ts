import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Config } from './config.types';
import { ConfigService } from './config.service';

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
