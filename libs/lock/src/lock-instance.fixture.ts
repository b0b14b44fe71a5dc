import { RedisService } from '@lattice/redis';
import { startPlatform } from '@lattice/testing';
import { LockModule } from './lock.module';
import { LockService } from './lock.service';

/** One app instance's lock service (LockModule built by Nest), for the lock lib's integration specs. */
export interface LockInstance {
  redis: RedisService;
  locks: LockService;
  close(): Promise<void>;
}

/** `env`: the Redis to use (REDIS_URL or REDIS_CLUSTER_NODES), KEY_PREFIX, LOCK_QUORUM_URLS, ... */
export async function lockInstance(env: Record<string, string>): Promise<LockInstance> {
  const platform = await startPlatform({ env, imports: [LockModule] });
  const redis = platform.get(RedisService);
  if (!(await redis.whenReady(10_000))) {
    await platform.close();
    throw new Error('The lock instance could not reach Redis');
  }
  return { redis, locks: platform.get(LockService), close: () => platform.close() };
}
