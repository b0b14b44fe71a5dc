export { ConfigModule } from './config.module';
export { ConfigService } from './config.service';
export { ConfigValidationError } from './config.errors';
export { loadConfig } from './load-config';
export { APP_NAMES, DEFAULT_PORTS } from './config.schema';
export type { AppName } from './config.schema';
export { parseRoutes, RESERVED_PREFIXES } from './routes.schema';
export type { UpstreamRoute } from './routes.schema';
export { parseRatePolicy, parseHostPort } from './env.parsers';
export type { RatePolicy, HostPort } from './env.parsers';
export type {
  Config,
  HttpConfig,
  RedisConfig,
  RateLimitConfig,
  SessionConfig,
  LockConfig,
  ClientLimitsConfig,
} from './config.types';
