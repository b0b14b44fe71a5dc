import type { RedisClient } from '@lattice/redis';
import { RedisCluster } from './redis-cluster';
import { RedisServer } from './redis-server';

export type TestRedisMode = 'standalone' | 'cluster';

/** The environment variable that picks the Redis under test (jest project e2e-cluster sets it). */
export const TEST_REDIS_VARIABLE = 'LATTICE_TEST_REDIS';

/**
 * "The Redis under test" for suites that only need a Redis, whatever its
 * shape: one redis-server, or a cluster of three masters.
 */
export interface TestRedis {
  readonly mode: TestRedisMode;
  /** What an app needs to use it: REDIS_URL, or REDIS_CLUSTER_NODES. */
  readonly env: Record<string, string>;
  /** A raw connection without prefix; cluster-aware on a cluster. */
  client(): RedisClient;
  /** Every key matching `pattern`, on every master (SCAN, never KEYS). */
  keys(pattern: string): Promise<string[]>;
  dispose(): Promise<void>;
}

/** `standalone` unless LATTICE_TEST_REDIS says `cluster`; anything else is a mistake. */
export function testRedisMode(): TestRedisMode {
  const value = process.env[TEST_REDIS_VARIABLE] || 'standalone';
  if (value !== 'standalone' && value !== 'cluster') {
    throw new Error(`${TEST_REDIS_VARIABLE} must be "standalone" or "cluster", not "${value}"`);
  }
  return value;
}

/** Starts the Redis under test: see testRedisMode(). */
export async function startTestRedis(): Promise<TestRedis> {
  return testRedisMode() === 'cluster' ? RedisCluster.start() : RedisServer.start();
}
