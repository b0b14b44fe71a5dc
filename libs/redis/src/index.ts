export { RedisModule } from './redis.module';
export { RedisService, REDIS_STARTUP_WAIT_MS, escapeGlob } from './redis.service';
export { RedisHealthIndicator, READINESS_PING_TIMEOUT_MS } from './redis.health';
export { RedisScript } from './redis.script';
export { isRedisUnavailableError } from './redis-errors';
export { withRedis } from './redis-failure';
export { RereadSchedule, REREAD_DELAY_MS } from './reread.schedule';
export {
  COMMAND_TIMEOUT_MS,
  createPlainClusterConnection,
  createPlainConnection,
} from './redis-options.factory';
export type { RedisClient } from './redis-options.factory';
export { StreamEntryRejectedError } from './stream.errors';
export {
  StreamConsumer,
  streamField,
  type StreamConsumerOptions,
  type StreamConsumerSettings,
  type StreamEntry,
} from './stream.consumer';
