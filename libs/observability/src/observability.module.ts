import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ConfigService } from '@lattice/config';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';
import { HttpMetricsHook } from './http-metrics.hook';
import { loggerOptions } from './logger.options';
import { QuietStartupLogger } from './quiet-startup.logger';
import { RequestLogHook } from './request-log.hook';

/**
 * The app's logs (nestjs-pino, configured from ConfigService), GET /metrics
 * and the HTTP hooks that log and time every request. Imported once, by
 * PlatformModule; a module that only records metrics imports MetricsModule.
 */
@Module({})
export class ObservabilityModule {
  static forRoot(): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) =>
            loggerOptions({ app: config.get('app'), log: config.get('log') }),
        }),
        MetricsModule,
      ],
      controllers: [MetricsController],
      providers: [HttpMetricsHook, RequestLogHook, QuietStartupLogger],
      exports: [MetricsModule, QuietStartupLogger],
    };
  }
}
