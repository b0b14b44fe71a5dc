import { join } from 'node:path';
import type { RedisScript, RedisService } from '@lattice/redis';
import { withDeadline } from './deadline';
import type { RateLimitAlgorithm } from './rate-limit.types';
import { type LeaseFlight, type Waiter, WindowLeaseBook } from './window-lease.book';
import type { WindowPolicy, WindowResult } from './window-result';
import {
  type Block,
  EXACT,
  NO_BLOCK,
  SCRIPT_KIND,
  type ScriptGroup,
  WindowScriptCodec,
} from './window-script.codec';

/** Most counters decided by one script call: it runs in Redis for well under a millisecond. */
export const MAX_BATCH = 64;

const SCRIPT = join(__dirname, 'rate-limit.lua');

interface Pending extends Waiter, WindowPolicy {
  key: string;
  /** The penalty: its key and how long a refusal blocks (ms); 0 for none. */
  block: Block;
  kind: number;
  /** Units this request counts as; above 1 it is decided in a group of its own, all or nothing. */
  cost: number;
}

/** One counter's requests in one call; or, with `giveback`, unused leased admissions returned. */
interface Group extends ScriptGroup {
  requests: Waiter[];
  /** Set on a lease call. */
  flight?: LeaseFlight;
}

/**
 * The shared limiter: each request is decided atomically inside one Lua call,
 * in one round trip, on Redis's clock. Requests made in the same turn of the
 * event loop share that call, grouped by counter (each still decided on its
 * own), which spares Redis and this process one command, one syscall each way
 * and one timer per request. In Cluster mode, whose multi-key scripts must
 * stay within one slot, each counter gets its own call.
 *
 * With a lease time (RATE_LIMIT_LEASE_MS), a counter that this instance sees
 * several requests for in one turn gets a lease: admissions reserved in the
 * same call, sized by the key's recent demand, which the following requests
 * take without asking Redis. Requests that come while a lease call is in
 * flight wait for it. Exact counters only.
 *
 * A call is never sent twice: the connection has no offline queue and does not
 * resend after a reconnect, and a call that missed its deadline is left to
 * land or fail on its own.
 */
export class RedisWindowStore {
  /** One script per group count, made on first use: ioredis fixes a script's key count. */
  private readonly scripts = new Map<number, RedisScript<number[]>>();
  private readonly perCall: number;
  private readonly codec: WindowScriptCodec;
  private queue: Pending[] = [];
  private givebacks: Group[] = [];
  private flushing = false;
  private readonly leases: WindowLeaseBook;

  constructor(
    private readonly redis: RedisService,
    private readonly timeoutMs: number,
    leaseMs = 0,
  ) {
    this.perCall = redis.isCluster ? 1 : MAX_BATCH;
    this.codec = new WindowScriptCodec(leaseMs);
    this.leases = new WindowLeaseBook(leaseMs, (key, policy, stamp, count) =>
      this.giveBack(key, policy, stamp, count),
    );
  }

  /** A decision from this instance's lease on `key`, when it holds a usable one. */
  fromLease(
    key: string,
    policy: WindowPolicy,
    algorithm: RateLimitAlgorithm,
    now: number,
  ): WindowResult | undefined {
    return this.leases.take(key, policy, algorithm, now);
  }

  consume(
    key: string,
    policy: WindowPolicy,
    algorithm: RateLimitAlgorithm,
    cost = 1,
    block: Block = NO_BLOCK,
  ): Promise<WindowResult> {
    return new Promise<WindowResult>((resolve, reject) => {
      const plain = cost === 1 && block.ms === 0 && algorithm === 'exact';
      if (plain && this.leases.join(key, policy, { resolve, reject })) return;
      const { limit, windowMs } = policy;
      this.enqueue({
        key,
        kind: SCRIPT_KIND[algorithm],
        limit,
        windowMs,
        cost,
        block,
        resolve,
        reject,
      });
    });
  }

  /** Gives back the unused admissions of every lease (at shutdown), so other instances can use them. */
  release(): Promise<void> {
    this.leases.endAll();
    return this.flush();
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // After the I/O phase, so every request read off the sockets in this turn joins.
    setImmediate(() => void this.flush());
  }

  private flush(): Promise<void> {
    this.flushing = false;
    const groups = this.givebacks;
    this.givebacks = [];
    const byCounter = new Map<string, Group>();
    for (const pending of this.queue) {
      const { key, kind, limit, windowMs, cost, block } = pending;
      const id =
        kind === EXACT && cost === 1 ? `${limit}:${windowMs}:${block.ms}:${key}` : undefined;
      let group = id === undefined ? undefined : byCounter.get(id);
      if (!group) {
        group = { key, kind, limit, windowMs, cost, block, requests: [], extra: 0 };
        groups.push(group);
        if (id !== undefined) byCounter.set(id, group);
      }
      group.requests.push(pending);
    }
    this.queue = [];
    const now = Date.now();
    for (const group of byCounter.values()) {
      const flight = this.leases.plan(group, now);
      if (flight) {
        group.flight = flight;
        group.extra = flight.size;
      }
    }
    const calls: Promise<void>[] = [];
    for (let i = 0; i < groups.length; i += this.perCall) {
      calls.push(this.send(groups.slice(i, i + this.perCall)));
    }
    return Promise.all(calls).then(() => undefined);
  }

  private send(groups: Group[]): Promise<void> {
    const { keys, args } = this.codec.encode(groups);
    const sentAt = Date.now();
    return withDeadline(this.script(keys.length).run(keys, args), this.timeoutMs).then(
      (reply) => {
        const now = Date.now();
        const stamp = this.codec.leaseStamp(reply);
        for (let i = 0; i < groups.length; i++) {
          this.settle(groups[i], reply, i, stamp, sentAt, now);
        }
      },
      (error: Error) => {
        // A giveback that failed leaves its admissions to age out of the window.
        for (const group of groups) this.fail(group, error);
      },
    );
  }

  private settle(
    group: Group,
    reply: number[],
    index: number,
    stamp: number,
    sentAt: number,
    now: number,
  ): void {
    const answer = this.codec.decode(reply, index);
    const { requests, flight } = group;
    for (let i = 0; i < requests.length; i++) {
      requests[i].resolve(this.codec.requestResult(answer, i));
    }
    if (!flight) return;
    const unserved = this.leases.land(group.key, flight, answer, stamp, sentAt, now);
    const { key, limit, windowMs } = group;
    for (const waiter of unserved) {
      this.enqueue({ ...waiter, key, kind: EXACT, limit, windowMs, cost: 1, block: NO_BLOCK });
    }
  }

  private fail(group: Group, error: Error): void {
    for (const request of group.requests) request.reject(error);
    if (group.flight) this.leases.abandon(group.key, group.flight, error);
  }

  /** Returns unused leased admissions to Redis with the next call. */
  private giveBack(key: string, policy: WindowPolicy, stamp: number, count: number): void {
    this.givebacks.push({
      key,
      kind: EXACT,
      ...policy,
      cost: 1,
      block: NO_BLOCK,
      requests: [],
      extra: 0,
      giveback: { stamp, count },
    });
    this.scheduleFlush();
  }

  private script(size: number): RedisScript<number[]> {
    let script = this.scripts.get(size);
    if (!script) {
      script = this.redis.script<number[]>(SCRIPT, size);
      this.scripts.set(size, script);
    }
    return script;
  }
}
