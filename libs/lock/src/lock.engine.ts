import type { LockKeys } from './lock.keys';
import type { LockNode, NodeGrant } from './lock.node';
import { driftMs, monotonicNow } from './lock.timing';

export type Attempt =
  /** `validUntil`: monotonic ms, measured from the start of this attempt. */
  | { kind: 'granted'; token: bigint; validUntil: number }
  | { kind: 'held'; retryAfterMs: number }
  | { kind: 'done' }
  | { kind: 'unreachable'; cause: unknown }
  /** Granted, but no replica confirmed it within the acknowledgement timeout: given back. */
  | { kind: 'unacknowledged' };

export type Extension =
  | { kind: 'extended'; validUntil: number }
  | { kind: 'refused' }
  | { kind: 'unreachable'; cause: unknown }
  | { kind: 'unacknowledged' };

export type Release =
  { kind: 'released' } | { kind: 'expired' } | { kind: 'unreachable'; cause: unknown };

export type Finish = 'finished' | 'lost' | 'unreachable';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs the lock operations on its nodes and counts the votes. One node (the
 * app's own Redis) is a quorum of one; with several independent nodes this is
 * the Redlock algorithm: a majority must grant within the lease's validity.
 * Nothing here throws for an unreachable Redis: it is an outcome.
 */
export class LockEngine {
  readonly majority: number;

  constructor(private readonly nodes: readonly LockNode[]) {
    this.majority = Math.floor(nodes.length / 2) + 1;
  }

  get isQuorum(): boolean {
    return this.nodes.length > 1;
  }

  /**
   * Whether waiters for `keys` can queue in Redis (see acquire-queued.lua):
   * one node, whose one script can take every key of the lock.
   */
  canQueue(keys: LockKeys): boolean {
    return !this.isQuorum && this.nodes[0].takesInOneScript(keys);
  }

  /**
   * @param ackTimeoutMs Single node only: the grant counts once a replica
   *   acknowledged it within this time (see LockNode.acknowledged).
   * @param liveMs Single node only (see canQueue): a waiting attempt, which
   *   takes or keeps its place in the resources' wait queues for this long.
   */
  attempt(
    keys: LockKeys,
    value: string,
    ttlMs: number,
    guard?: string,
    ackTimeoutMs?: number,
    liveMs = 0,
  ): Promise<Attempt> {
    const started = monotonicNow();
    const validUntil = started + ttlMs - driftMs(ttlMs);
    if (this.isQuorum) return this.attemptOnQuorum(keys, value, ttlMs, validUntil, guard);
    const node = this.nodes[0];
    // Plain promise callbacks rather than async/await: a lone lock's loop pays for every hop.
    const call =
      liveMs > 0
        ? node.acquireQueued(keys, value, ttlMs, liveMs)
        : node.acquire(keys, value, ttlMs, guard);
    return call.then(
      (grant) =>
        grant.kind === 'granted'
          ? this.granted(keys, value, grant, validUntil, ackTimeoutMs)
          : grant,
      (cause: unknown): Attempt => ({ kind: 'unreachable', cause }),
    );
  }

  /** One node granted: acknowledged by a replica if asked, and still valid, or given back. */
  private granted(
    keys: LockKeys,
    value: string,
    grant: Extract<NodeGrant, { kind: 'granted' }>,
    validUntil: number,
    ackTimeoutMs?: number,
  ): Attempt | Promise<Attempt> {
    if (ackTimeoutMs !== undefined) {
      return this.nodes[0]
        .acknowledged(ackTimeoutMs)
        .catch(() => false)
        .then(async (acknowledged): Promise<Attempt> => {
          if (acknowledged) return this.granted(keys, value, grant, validUntil);
          await this.releaseQuietly(keys, value);
          return { kind: 'unacknowledged' };
        });
    }
    // Granted too late to be of use (a stalled event loop, a slow Redis): give it back.
    if (monotonicNow() >= validUntil) {
      return this.releaseQuietly(keys, value).then(() => ({ kind: 'held', retryAfterMs: 0 }));
    }
    return { kind: 'granted', token: BigInt(grant.token), validUntil };
  }

  private async attemptOnQuorum(
    keys: LockKeys,
    value: string,
    ttlMs: number,
    validUntil: number,
    guard?: string,
  ): Promise<Attempt> {
    const votes = await this.vote(
      this.nodes.map((node) => node.acquire(keys, value, ttlMs, guard)),
      (grant) => grant.kind === 'granted',
    );
    const answers = votes.flatMap((v) => (v?.ok ? [v.value] : []));
    if (answers.some((a) => a.kind === 'done')) {
      await this.releaseQuietly(keys, value);
      return { kind: 'done' };
    }
    const granted = votes.flatMap((v, i) =>
      v?.ok && v.value.kind === 'granted' ? [{ node: this.nodes[i], token: v.value.token }] : [],
    );
    if (granted.length < this.majority) {
      await this.releaseQuietly(keys, value);
      const failed = votes.filter((v) => v && !v.ok) as { ok: false; error: unknown }[];
      if (failed.length > this.nodes.length - this.majority) {
        return { kind: 'unreachable', cause: failed[0].error };
      }
      const waits = answers.flatMap((a) => (a.kind === 'held' ? [a.retryAfterMs] : []));
      return { kind: 'held', retryAfterMs: waits.length ? Math.min(...waits) : -1 };
    }
    // Each node issued its own token; the lock's token is the largest, and the
    // granting nodes' counters are raised to it, so that any later majority
    // (which shares a node with this one) issues a larger token.
    const token = granted.reduce((max, g) => (BigInt(g.token) > max ? BigInt(g.token) : max), 0n);
    const raised = await this.vote(
      granted.map((g) => g.node.raise(keys, value, token.toString(), ttlMs)),
      (ok) => ok,
    );
    const raisedCount = raised.filter((r) => r?.ok && r.value).length;
    if (raisedCount < this.majority || monotonicNow() >= validUntil) {
      await this.releaseQuietly(keys, value);
      return { kind: 'held', retryAfterMs: 0 };
    }
    return { kind: 'granted', token, validUntil };
  }

  async extend(
    keys: LockKeys,
    value: string,
    ttlMs: number,
    ackTimeoutMs?: number,
  ): Promise<Extension> {
    const started = monotonicNow();
    const validUntil = started + ttlMs - driftMs(ttlMs);
    if (!this.isQuorum) {
      try {
        const extended = await this.nodes[0].extend(keys, value, ttlMs);
        if (!extended) return { kind: 'refused' };
        if (ackTimeoutMs !== undefined && !(await this.nodes[0].acknowledged(ackTimeoutMs))) {
          return { kind: 'unacknowledged' };
        }
        return { kind: 'extended', validUntil };
      } catch (cause) {
        return { kind: 'unreachable', cause };
      }
    }
    const votes = await this.vote(
      this.nodes.map((node) => node.extend(keys, value, ttlMs)),
      (ok) => ok,
    );
    const extended = votes.filter((v) => v?.ok && v.value).length;
    if (extended >= this.majority) return { kind: 'extended', validUntil };
    const refused = votes.filter((v) => v?.ok && !v.value).length;
    if (refused > this.nodes.length - this.majority) return { kind: 'refused' };
    const failed = votes.find((v) => v && !v.ok) as { ok: false; error: unknown } | undefined;
    return { kind: 'unreachable', cause: failed?.error };
  }

  release(keys: LockKeys, value: string): Promise<Release> {
    return this.isQuorum ? this.releaseOnQuorum(keys, value) : this.releaseOnOneNode(keys, value);
  }

  private async releaseOnQuorum(keys: LockKeys, value: string): Promise<Release> {
    const results = await Promise.allSettled(this.nodes.map((node) => node.release(keys, value)));
    const answered = results.filter((r) => r.status === 'fulfilled');
    if (answered.length < this.majority) {
      const failed = results.find((r) => r.status === 'rejected');
      return { kind: 'unreachable', cause: failed?.reason };
    }
    // Released means the whole lock was still ours where it counts: every resource, on a majority.
    const whole = answered.filter((r) => r.value === keys.resources.length).length;
    return whole >= this.majority ? { kind: 'released' } : { kind: 'expired' };
  }

  private releaseOnOneNode(keys: LockKeys, value: string): Promise<Release> {
    return this.nodes[0].release(keys, value).then(
      (count): Release =>
        count === keys.resources.length ? { kind: 'released' } : { kind: 'expired' },
      (cause: unknown): Release => ({ kind: 'unreachable', cause }),
    );
  }

  /** Best effort: a place left behind expires with its deadline. */
  async leaveQueue(keys: LockKeys, value: string): Promise<void> {
    await this.nodes[0].leaveQueue(keys, value).catch(() => undefined);
  }

  async finish(keys: LockKeys, value: string, done: string, doneTtlMs: number): Promise<Finish> {
    const votes = await this.vote(
      this.nodes.map((node) => node.finish(keys, value, done, doneTtlMs)),
      (ok) => ok,
    );
    if (votes.filter((v) => v?.ok && v.value).length >= this.majority) return 'finished';
    const refused = votes.filter((v) => v?.ok && !v.value).length;
    return refused > this.nodes.length - this.majority ? 'lost' : 'unreachable';
  }

  /** Best effort: a lease left behind expires by itself. */
  private async releaseQuietly(keys: LockKeys, value: string): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.release(keys, value)));
  }

  /**
   * Resolves as soon as a majority voted yes, or as soon as that can no longer
   * happen, with the results so far (undefined for nodes still to answer):
   * one slow node does not hold the others up.
   */
  private vote<T>(
    calls: Promise<T>[],
    yes: (value: T) => boolean,
  ): Promise<(Settled<T> | undefined)[]> {
    const results: (Settled<T> | undefined)[] = calls.map(() => undefined);
    const needed = this.majority;
    const total = calls.length;
    return new Promise((resolve) => {
      let ayes = 0;
      let noes = 0;
      const settle = (i: number, result: Settled<T>) => {
        results[i] = result;
        if (result.ok && yes(result.value)) ayes++;
        else noes++;
        if (ayes >= needed || noes > total - needed || ayes + noes === total) resolve([...results]);
      };
      calls.forEach((call, i) =>
        call.then(
          (value) => settle(i, { ok: true, value }),
          (error: unknown) => settle(i, { ok: false, error }),
        ),
      );
    });
  }
}
