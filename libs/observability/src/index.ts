export { ObservabilityModule } from './observability.module';
export { MetricsService } from './metrics.service';
export { pathOf, requestIdFor, REQUEST_ID_HEADER } from './request-id';
export { Logger as PinoLogger } from 'nestjs-pino';
