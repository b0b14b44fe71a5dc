import { join } from 'node:path';
import { RedisScript, type RedisClient } from '@lattice/redis';
import type { LockKeys } from './lock.keys';
import { FENCE_RETENTION_MS } from './lock.timing';
import { ScriptBatch, type BatchRequest } from './script.batch';

export type NodeGrant =
  | { kind: 'granted'; token: string }
  /** `retryAfterMs`: how long the blocking lease still lives (-1 when Redis cannot say). */
  | { kind: 'held'; retryAfterMs: number }
  | { kind: 'done' };

type ScriptName =
  | 'acquire'
  | 'acquire-one'
  | 'acquire-queued'
  | 'leave-queue'
  | 'extend'
  | 'release'
  | 'release-one'
  | 'raise'
  | 'finish';

/** Scripts that keep wait queues load the queue functions first. */
const QUEUE_SCRIPTS: ReadonlySet<ScriptName> = new Set(['acquire-queued', 'leave-queue']);
type AcquireReply = [number, (string | number)?];

const fenceTtl = (ttlMs: number): number => ttlMs + FENCE_RETENTION_MS;

function toGrant(reply: AcquireReply): NodeGrant {
  if (reply[0] === 1) return { kind: 'granted', token: String(reply[1]) };
  if (reply[0] === 2) return { kind: 'done' };
  return { kind: 'held', retryAfterMs: Number(reply[1]) };
}

/**
 * The lock scripts on one Redis: the app's own connection, or one independent
 * node of a quorum. Methods throw when Redis does not answer; the engine turns
 * that into a vote against.
 */
export class LockNode {
  private readonly scripts = new Map<string, RedisScript>();
  private readonly acquires: ScriptBatch<AcquireReply>;
  private readonly extends: ScriptBatch<number>;
  private readonly releases: ScriptBatch<number>;

  /**
   * @param cluster Redis Cluster: a script may only touch keys of one slot, so
   *   requests are not batched, and a lock on several resources is taken one
   *   resource at a time.
   */
  constructor(
    private readonly client: RedisClient,
    private readonly cluster: boolean,
  ) {
    const batching = !cluster;
    this.acquires = new ScriptBatch(
      (keys, args) => this.run('acquire', keys, args),
      batching,
      (request) => this.acquireAlone(request),
    );
    this.extends = new ScriptBatch((keys, args) => this.run('extend', keys, args), batching);
    this.releases = new ScriptBatch(
      (keys, args) => this.run('release', keys, args),
      batching,
      (request) => this.releaseAlone(request),
    );
  }

  // Plain promise callbacks rather than async/await on the lone lock's path: a
  // sequential acquire + release loop pays for every hop (docs/benchmarks.md).
  acquire(keys: LockKeys, value: string, ttlMs: number, guard?: string): Promise<NodeGrant> {
    if (!this.cluster || keys.resources.length === 1) {
      return this.acquirePairs(keys.pairs, value, ttlMs, '0', guard).then(toGrant);
    }
    if (guard) return Promise.reject(new Error('A guarded lock takes a single resource'));
    return this.acquireOneByOne(keys, value, ttlMs);
  }

  /**
   * A waiting acquisition's attempt: keeps its place in every resource's wait
   * queue for `liveMs` more, and takes the lock only when it is first in line
   * everywhere and every lease is free. One node, all keys in one script (not
   * for several resources on Cluster).
   */
  async acquireQueued(
    keys: LockKeys,
    value: string,
    ttlMs: number,
    liveMs: number,
  ): Promise<NodeGrant> {
    const reply = await this.run<AcquireReply>('acquire-queued', keys.pairs, [
      value,
      ttlMs,
      fenceTtl(ttlMs),
      liveMs,
    ]);
    return toGrant(reply);
  }

  /** A waiter gives up its place in the queues; the next one is woken where the lease is free. */
  async leaveQueue(keys: LockKeys, value: string): Promise<void> {
    await this.run('leave-queue', keys.leases, [value]);
  }

  /** Lifts the fence counters to `token` while `value` holds every lease; false when one was lost. */
  async raise(keys: LockKeys, value: string, token: string, ttlMs: number): Promise<boolean> {
    const results = await Promise.all(
      this.groups(keys).map((pairs) =>
        this.run<number>('raise', pairs, [value, token, fenceTtl(ttlMs)]),
      ),
    );
    return results.every((r) => r === 1);
  }

  /** True when every lease was still `value`'s and now lives `ttlMs` more. */
  async extend(keys: LockKeys, value: string, ttlMs: number): Promise<boolean> {
    const results = await Promise.all(
      this.groups(keys).map((pairs) =>
        this.extends.submit({
          keys: pairs,
          args: [value, ttlMs, fenceTtl(ttlMs), pairs.length / 2],
        }),
      ),
    );
    return results.every((r) => r === 1);
  }

  /** How many of the leases were still `value`'s (they are deleted). */
  release(keys: LockKeys, value: string): Promise<number> {
    if (!this.cluster || keys.leases.length === 1) {
      return this.releases.submit({ keys: keys.leases, args: [value, keys.leases.length] });
    }
    return Promise.all(
      keys.leases.map((lease) => this.releases.submit({ keys: [lease], args: [value, 1] })),
    ).then((counts) => counts.reduce((sum, n) => sum + n, 0));
  }

  /**
   * `WAIT 1 timeoutMs` on this node's connection: true once at least one
   * replica has every write this connection made so far (so the lease or
   * extension just written), false when none confirmed within `timeoutMs`.
   */
  async acknowledged(timeoutMs: number): Promise<boolean> {
    return (await this.client.wait(1, timeoutMs)) >= 1;
  }

  /** Marks a run-once task done and ends its lease, if `value` still holds it. */
  async finish(keys: LockKeys, value: string, done: string, doneTtlMs: number): Promise<boolean> {
    return (await this.run<number>('finish', [keys.leases[0], done], [value, doneTtlMs])) === 1;
  }

  private acquirePairs(
    pairs: readonly string[],
    value: string,
    ttlMs: number,
    floor: string,
    guard?: string,
  ): Promise<AcquireReply> {
    return this.acquires.submit({
      keys: guard ? [...pairs, guard] : pairs,
      args: [value, ttlMs, floor, fenceTtl(ttlMs), pairs.length / 2, guard ? '1' : '0'],
    });
  }

  /**
   * An acquisition alone in its call: one resource without guard or token
   * floor (two keys, floor '0') takes acquire-one.lua, anything else
   * acquire.lua with a single request.
   */
  private acquireAlone({ keys, args }: BatchRequest): Promise<AcquireReply> {
    const [value, ttlMs, floor, fenceTtlMs] = args;
    if (keys.length === 2 && floor === '0') {
      return this.run<string | number>('acquire-one', keys, [value, ttlMs, fenceTtlMs]).then(
        (reply): AcquireReply => (typeof reply === 'string' ? [1, reply] : [0, reply]),
      );
    }
    return this.run<AcquireReply[]>('acquire', keys, args).then((replies) => replies[0]);
  }

  /** A release alone in its call: one lease takes release-one.lua. */
  private releaseAlone({ keys, args }: BatchRequest): Promise<number> {
    if (keys.length === 1) return this.run<number>('release-one', keys, [args[0]]);
    return this.run<number[]>('release', keys, args).then((replies) => replies[0]);
  }

  /**
   * Cluster, several resources: one script per resource in sorted order (so
   * two such locks never wait on each other in a cycle), each passing on its
   * token as the next one's floor; then the earlier counters are raised to the
   * last, largest token. Anything already taken is given back on failure.
   */
  private async acquireOneByOne(keys: LockKeys, value: string, ttlMs: number): Promise<NodeGrant> {
    let token = '0';
    let taken = 0;
    try {
      for (; taken < keys.resources.length; taken++) {
        const pair = [keys.leases[taken], keys.fences[taken]];
        const grant = toGrant(await this.acquirePairs(pair, value, ttlMs, token));
        if (grant.kind !== 'granted') {
          await this.giveBack(keys, taken, value);
          return grant;
        }
        token = grant.token;
      }
      const raised = await Promise.all(
        keys.leases
          .slice(0, -1)
          .map((lease, i) =>
            this.run<number>('raise', [lease, keys.fences[i]], [value, token, fenceTtl(ttlMs)]),
          ),
      );
      if (raised.every((r) => r === 1)) return { kind: 'granted', token };
      await this.giveBack(keys, taken, value);
      return { kind: 'held', retryAfterMs: 0 };
    } catch (error) {
      await this.giveBack(keys, taken + 1, value);
      throw error;
    }
  }

  private async giveBack(keys: LockKeys, count: number, value: string): Promise<void> {
    await Promise.all(
      keys.leases
        .slice(0, count)
        .map((lease) =>
          this.releases.submit({ keys: [lease], args: [value, 1] }).catch(() => undefined),
        ),
    );
  }

  /** One script can take all of these keys: anything on one Redis, one resource on Cluster. */
  takesInOneScript(keys: LockKeys): boolean {
    return !this.cluster || keys.resources.length === 1;
  }

  /** The key pairs one script may take together: all of them, or one resource's on Cluster. */
  private groups(keys: LockKeys): (readonly string[])[] {
    if (!this.cluster) return [keys.pairs];
    return keys.leases.map((lease, i) => [lease, keys.fences[i]]);
  }

  private run<T>(
    name: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<T> {
    // RedisScript takes a fixed number of keys: one is defined per count seen.
    const id = `${name}/${keys.length}`;
    let script = this.scripts.get(id);
    if (!script) {
      const file = join(__dirname, `${name}.lua`);
      const files = QUEUE_SCRIPTS.has(name) ? [join(__dirname, 'queue.lua'), file] : file;
      script = new RedisScript(this.client, files, keys.length);
      this.scripts.set(id, script);
    }
    return script.run(keys, args) as Promise<T>;
  }
}
