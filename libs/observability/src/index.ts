export { ObservabilityModule } from './observability.module';
export { MetricsModule } from './metrics.module';
export { MetricsService } from './metrics.service';
export type { HotCounter } from './hot.counter';
export type { HotHistogram } from './hot.histogram';
export { pathOf, requestIdFor, REQUEST_ID_HEADER } from './request-id';
export { QuietStartupLogger } from './quiet-startup.logger';
export {
  startTracing,
  stopTracing,
  tracingEnabled,
  traced,
  tracedFrom,
  inServerSpan,
  startSpan,
  NO_SPAN,
  currentTraceIds,
  type SpanScope,
} from './tracing';
export { requestContext } from './request-context';
