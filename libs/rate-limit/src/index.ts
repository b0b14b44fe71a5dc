export { RateLimitModule } from './rate-limit.module';
export { RateLimitService } from './rate-limit.service';
export { RateLimitGuard } from './rate-limit.guard';
export { RateLimitHealthIndicator } from './rate-limit.health';
export {
  RateLimitOverrides,
  validateOverride,
  MAX_FACTOR,
  MAX_SELECTOR_LENGTH,
  OVERRIDE_SELECTOR,
  OVERRIDES_KEY,
} from './rate-limit.overrides';
export type { RateLimitOverride } from './rate-limit.overrides';
export {
  RateLimit,
  SkipRateLimit,
  RATE_LIMIT_POLICY,
  RATE_LIMIT_SKIP,
} from './rate-limit.decorators';
export type { RateLimitModuleAsyncOptions } from './rate-limit.module';
export { RateLimitedError, RateLimitUnavailableError } from './rate-limit.errors';
export { writeRateLimitHeaders, rateLimitHeaders } from './rate-limit.headers';
export type { HeaderTarget } from './rate-limit.headers';
export { clientIpKey, loginRateLimitKey } from './client-ip';
export {
  RATE_LIMIT_DEFAULTS,
  APPROXIMATE_BUCKETS,
  FALLBACK_BUCKETS,
  MAX_LIMIT,
  POLICY_NAME,
} from './rate-limit.constants';
export type {
  RateLimitAlgorithm,
  RateLimitDecision,
  RateLimitRequest,
  RateLimitedUser,
  RateLimitModuleOptions,
  RateLimitKey,
  RateLimitPolicy,
  RateLimitState,
  RateLimitSubject,
  RateLimitUse,
  RegisteredPolicy,
} from './rate-limit.types';
