import { ConfigService, loadConfig } from '@lattice/config';
import { RedisService } from '@lattice/redis';
import { LockService } from './lock.service';

/** One app's lock service over its own Redis connections, for the lock lib's integration specs. */
export interface LockInstance {
  redis: RedisService;
  locks: LockService;
  close(): Promise<void>;
}

export async function lockInstance(url: string, keyPrefix: string): Promise<LockInstance> {
  const config = new ConfigService(
    loadConfig('gateway', { REDIS_URL: url, KEY_PREFIX: keyPrefix }),
  );
  const redis = new RedisService(config);
  redis.onModuleInit();
  await redis.whenReady(5000);
  const locks = new LockService(redis, config);
  return {
    redis,
    locks,
    close: async () => {
      await locks.beforeApplicationShutdown();
      await redis.onApplicationShutdown();
    },
  };
}
