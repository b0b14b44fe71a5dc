export { RedisModule } from './redis.module';
export { RedisService, escapeGlob } from './redis.service';
export { RedisHealthIndicator, READINESS_PING_TIMEOUT_MS } from './redis.health';
export { RedisScript } from './redis-script';
export { COMMAND_TIMEOUT_MS, createPlainConnection } from './redis-options.factory';
export type { RedisClient } from './redis-options.factory';
