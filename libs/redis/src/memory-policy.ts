import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-options.factory';

/** The one `maxmemory-policy` under which Redis never drops keys to make room. */
export const SAFE_MEMORY_POLICY = 'noeviction';

/**
 * What the platform cannot promise when Redis evicts keys: any key (an
 * account, a session, the id counter, a lock) may vanish under memory pressure.
 */
export function evictionWarning(policy: string): string {
  return `Redis runs with maxmemory-policy ${policy}: under memory pressure it deletes keys (accounts, sessions, locks, the user id counter); set it to ${SAFE_MEMORY_POLICY}`;
}

/**
 * The `maxmemory-policy` of every master (the distinct values, sorted), or
 * null when Redis refuses CONFIG (managed services often do).
 */
export async function readMemoryPolicies(client: RedisClient): Promise<string[] | null> {
  const nodes: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  try {
    const replies = await Promise.all(
      nodes.map((node) => node.config('GET', 'maxmemory-policy') as Promise<string[]>),
    );
    return [...new Set(replies.map((reply) => reply[1]).filter(Boolean))].sort();
  } catch {
    return null;
  }
}
