export { CacheModule } from './cache.module';
export { CacheService } from './cache.service';
export { CacheNamespace } from './cache.namespace';
export {
  InvalidCacheKeyError,
  InvalidCachePatternError,
  InvalidCacheValueError,
  InvalidCacheOptionsError,
  CacheUnavailableError,
  CacheLockTimeoutError,
  CacheLoadTimeoutError,
} from './cache.errors';
export {
  cacheKeyProblem,
  cachePatternProblem,
  CACHE_KEY_RULE,
  CACHE_PATTERN_RULE,
  CACHE_NAMESPACE_RULE,
} from './cache-key';
export {
  CACHE_KEY_PREFIX,
  INVALIDATION_CHANNEL,
  MAX_TTL_SECONDS,
  CACHE_DEFAULTS,
} from './cache.constants';
export type {
  CacheSource,
  CacheSetOptions,
  GetOrSetOptions,
  CacheLoader,
  CacheResult,
} from './cache.types';
export type { CacheWarmer } from './cache-warmer.types';
export type { CacheModuleOptions } from './cache-module.options';
