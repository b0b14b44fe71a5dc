import { join } from 'node:path';
import type { RedisScript, RedisService } from '@lattice/redis';
import { withDeadline } from './deadline';
import type { RateLimitAlgorithm } from './rate-limit.types';
import { WindowLease } from './window-lease';
import { samePolicy, type WindowPolicy, type WindowResult } from './window-result';
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
/** Most admissions one lease reserves: one LPUSH of them stays small. */
export const MAX_LEASE = 1000;
/** A lease reserves at most this fraction of the limit, so that several instances can hold one. */
const LEASE_SHARE = 32;

const SCRIPT = join(__dirname, 'rate-limit.lua');

interface Waiter {
  resolve: (result: WindowResult) => void;
  reject: (error: Error) => void;
}

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
  /** Set on a lease call: requests of the key that came while it was in flight. */
  waiters?: Waiter[];
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
  private readonly leases = new Map<string, WindowLease>();
  /** Lease calls in flight, by key. */
  private readonly flights = new Map<string, Group>();

  constructor(
    private readonly redis: RedisService,
    private readonly timeoutMs: number,
    private readonly leaseMs = 0,
  ) {
    this.perCall = redis.isCluster ? 1 : MAX_BATCH;
    this.codec = new WindowScriptCodec(leaseMs);
  }

  /** A decision from this instance's lease on `key`, when it holds a usable one. */
  fromLease(
    key: string,
    policy: WindowPolicy,
    algorithm: RateLimitAlgorithm,
    now: number,
  ): WindowResult | undefined {
    if (this.leaseMs === 0 || algorithm !== 'exact') return undefined;
    const lease = this.leases.get(key);
    return lease?.fits(policy, now) ? lease.take(now) : undefined;
  }

  consume(
    key: string,
    policy: WindowPolicy,
    algorithm: RateLimitAlgorithm,
    cost = 1,
    block: Block = NO_BLOCK,
  ): Promise<WindowResult> {
    return new Promise<WindowResult>((resolve, reject) => {
      const flight = cost === 1 && block.ms === 0 ? this.flights.get(key) : undefined;
      if (flight && algorithm === 'exact' && samePolicy(flight, policy)) {
        flight.waiters!.push({ resolve, reject });
        return;
      }
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
    for (const [key, lease] of this.leases) this.endLease(key, lease);
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
    for (const group of byCounter.values()) this.planLease(group, Date.now());
    const calls: Promise<void>[] = [];
    for (let i = 0; i < groups.length; i += this.perCall) {
      calls.push(this.send(groups.slice(i, i + this.perCall)));
    }
    return Promise.all(calls).then(() => undefined);
  }

  /** Asks for a lease when the key is in demand: several requests now, or a recent lease used. */
  private planLease(group: Group, now: number): void {
    // A penalised key is decided in Redis, where its block lives.
    if (this.leaseMs === 0 || group.block.ms > 0) return;
    const cap = Math.min(MAX_LEASE, Math.floor(group.limit / LEASE_SHARE));
    const last = this.leases.get(group.key);
    // Redis just refused to lease (the window is half used): decide each request there until then.
    if (last && last.granted === 0 && now < last.until && samePolicy(last.policy, group)) return;
    const demand = group.requests.length + (last?.served ?? 0);
    if (cap < 2 || demand < 2) return;
    group.extra = Math.min(cap, demand);
    group.waiters = [];
    this.flights.set(group.key, group);
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
    const { remaining, resetMs, leased } = answer;
    const { requests, waiters } = group;
    for (let i = 0; i < requests.length; i++) {
      requests[i].resolve(this.codec.requestResult(answer, i));
    }
    if (!waiters) return;
    if (this.flights.get(group.key) === group) this.flights.delete(group.key);
    // Used until the time it was sent plus the lease time: on Redis's clock, never after `stamp`.
    const lease = new WindowLease(
      { limit: group.limit, windowMs: group.windowMs },
      leased,
      stamp,
      sentAt + this.leaseMs,
      remaining,
      now + resetMs,
    );
    this.holdLease(group.key, lease, now);
    for (const waiter of waiters) {
      if (lease.fits(group, now)) waiter.resolve(lease.take(now));
      else
        this.enqueue({
          ...waiter,
          key: group.key,
          kind: EXACT,
          limit: group.limit,
          windowMs: group.windowMs,
          cost: 1,
          block: NO_BLOCK,
        });
    }
  }

  private fail(group: Group, error: Error): void {
    for (const request of group.requests) request.reject(error);
    if (!group.waiters) return;
    if (this.flights.get(group.key) === group) this.flights.delete(group.key);
    for (const waiter of group.waiters) waiter.reject(error);
  }

  private holdLease(key: string, lease: WindowLease, now: number): void {
    const previous = this.leases.get(key);
    if (previous) this.endLease(key, previous);
    this.leases.set(key, lease);
    lease.timer = setTimeout(() => this.endLease(key, lease), Math.max(0, lease.until - now));
    lease.timer.unref();
  }

  private endLease(key: string, lease: WindowLease): void {
    clearTimeout(lease.timer);
    if (this.leases.get(key) === lease) this.leases.delete(key);
    if (lease.left === 0) return;
    const giveback = { stamp: lease.stamp, count: lease.left };
    lease.left = 0;
    this.givebacks.push({
      key,
      kind: EXACT,
      ...lease.policy,
      cost: 1,
      block: NO_BLOCK,
      requests: [],
      extra: 0,
      giveback,
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
