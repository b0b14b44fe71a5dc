import { Global, Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ConfigService } from '@lattice/config';
import { MetricsService } from './metrics.service';
import { MetricsController } from './metrics.controller';
import { HttpMetricsHook } from './http-metrics.hook';
import { loggerOptions } from './logger.options';
import { QuietStartupLogger } from './quiet-startup.logger';
import { RequestLogHook } from './request-log.hook';

@Global()
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
      ],
      controllers: [MetricsController],
      providers: [MetricsService, HttpMetricsHook, RequestLogHook, QuietStartupLogger],
      exports: [MetricsService, QuietStartupLogger],
    };
  }
}
