/**
 * Key families: user locks, run-once tasks, leader leases, semaphores and
 * read-write locks never share a key.
 */
export type LockNamespace = 'lock' | 'runonce' | 'leader' | 'sem' | 'rw';

/** The most resources one lock may take; a script's keys grow with it. */
export const MAX_RESOURCES = 64;
const MAX_RESOURCE_LENGTH = 1024;

/** The Redis keys of one lock, in the order the scripts take them. */
export interface LockKeys {
  /** Distinct resources, sorted, so every caller takes them in the same order. */
  readonly resources: readonly string[];
  /** One lease key per resource (holds the owner value, with the lease's TTL). */
  readonly leases: readonly string[];
  /** One fence counter per resource (the last token issued). */
  readonly fences: readonly string[];
  /** Lease and fence key of each resource, interleaved. */
  readonly pairs: readonly string[];
}

/**
 * Braces would end or open a hash tag early, and `%` is the escape itself, so
 * these three are percent-encoded: any non-empty name is allowed, and distinct
 * names give distinct keys.
 */
function encode(resource: string): string {
  return resource.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `lock:{<resource>}` and `lock:{<resource>}:fence`: the two keys of a resource
 * share a hash tag, so the script that touches both runs on Redis Cluster.
 */
export function lockKeys(namespace: LockNamespace, input: string | readonly string[]): LockKeys {
  if (typeof input === 'string' && input.length > 0 && input.length <= MAX_RESOURCE_LENGTH) {
    // The common case, on every acquisition: one resource, nothing to sort.
    const lease = `${namespace}:{${encode(input)}}`;
    const fence = `${lease}:fence`;
    return { resources: [input], leases: [lease], fences: [fence], pairs: [lease, fence] };
  }
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('A lock needs at least one resource');
  }
  const resources = [...new Set(list)].sort();
  if (resources.length > MAX_RESOURCES) {
    throw new TypeError(`A lock takes at most ${MAX_RESOURCES} resources`);
  }
  for (const resource of resources) {
    if (typeof resource !== 'string' || resource.length === 0) {
      throw new TypeError('A resource name must be a non-empty string');
    }
    if (resource.length > MAX_RESOURCE_LENGTH) {
      throw new TypeError(`A resource name must be at most ${MAX_RESOURCE_LENGTH} characters`);
    }
  }
  const leases = resources.map((r) => `${namespace}:{${encode(r)}}`);
  const fences = leases.map((lease) => `${lease}:fence`);
  return {
    resources,
    leases,
    fences,
    pairs: leases.flatMap((lease, i) => [lease, fences[i]]),
  };
}

/** The run-once marker: in the lease's hash tag, so the acquire script can check it. */
export function doneKey(keys: LockKeys): string {
  return `${keys.leases[0]}:done`;
}
