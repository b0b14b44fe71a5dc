import type { RateLimitAlgorithm } from './rate-limit.types';
import { WindowLease } from './window.lease';
import { samePolicy, type WindowPolicy, type WindowResult } from './window-result';
import type { GroupReply, ScriptGroup } from './window-script.codec';

/** Most admissions one lease reserves: one LPUSH of them stays small. */
export const MAX_LEASE = 1000;
/** A lease reserves at most this fraction of the limit, so that several instances can hold one. */
const LEASE_SHARE = 32;

/** A request waiting for its decision. */
export interface Waiter {
  resolve: (result: WindowResult) => void;
  reject: (error: Error) => void;
}

/** A script call that asks for a lease on one key, while it is in flight. */
export interface LeaseFlight {
  readonly policy: WindowPolicy;
  /** Admissions it asks for beyond its own requests. */
  readonly size: number;
  /** Requests of the key that came while it was in flight: served from the lease it brings. */
  readonly waiters: Waiter[];
}

/** Called when a lease ends with admissions unused: they go back to Redis. */
export type LeaseGiveback = (
  key: string,
  policy: WindowPolicy,
  stamp: number,
  count: number,
) => void;

/**
 * This instance's leases (RATE_LIMIT_LEASE_MS): which counters get one and
 * how large, the lease calls in flight and the requests waiting on them, the
 * leases held and the admissions handed out from them, and the giveback of
 * what is left when one ends. Exact counters of cost 1 without a penalty only.
 */
export class WindowLeaseBook {
  private readonly leases = new Map<string, WindowLease>();
  /** Lease calls in flight, by key. */
  private readonly flights = new Map<string, LeaseFlight>();

  constructor(
    private readonly leaseMs: number,
    private readonly giveBack: LeaseGiveback,
  ) {}

  /** A decision from this instance's lease on `key`, when it holds a usable one. */
  take(
    key: string,
    policy: WindowPolicy,
    algorithm: RateLimitAlgorithm,
    now: number,
  ): WindowResult | undefined {
    if (this.leaseMs === 0 || algorithm !== 'exact') return undefined;
    const lease = this.leases.get(key);
    return lease?.fits(policy, now) ? lease.take(now) : undefined;
  }

  /** Makes `waiter` wait for the lease call in flight on `key`, if there is one for `policy`. */
  join(key: string, policy: WindowPolicy, waiter: Waiter): boolean {
    const flight = this.flights.get(key);
    if (!flight || !samePolicy(flight.policy, policy)) return false;
    flight.waiters.push(waiter);
    return true;
  }

  /**
   * A lease to ask for with an exact group of cost 1, when its key is in
   * demand (several requests now, or a recent lease used); it is in flight
   * from now until landed or abandoned.
   */
  plan(group: ScriptGroup, now: number): LeaseFlight | undefined {
    // A penalised key is decided in Redis, where its block lives.
    if (this.leaseMs === 0 || group.block.ms > 0) return undefined;
    const cap = Math.min(MAX_LEASE, Math.floor(group.limit / LEASE_SHARE));
    const last = this.leases.get(group.key);
    // Redis just refused to lease (the window is half used): decide each request there until then.
    if (last && last.granted === 0 && now < last.until && samePolicy(last.policy, group)) {
      return undefined;
    }
    const demand = group.requests.length + (last?.served ?? 0);
    if (cap < 2 || demand < 2) return undefined;
    const flight: LeaseFlight = {
      policy: { limit: group.limit, windowMs: group.windowMs },
      size: Math.min(cap, demand),
      waiters: [],
    };
    this.flights.set(group.key, flight);
    return flight;
  }

  /**
   * Holds the lease a call brought (`stamp`: what Redis wrote for its
   * admissions; `sentAt`: local ms when the call was sent) and serves the
   * flight's waiters from it. Returns the waiters it could not serve.
   */
  land(
    key: string,
    flight: LeaseFlight,
    reply: GroupReply,
    stamp: number,
    sentAt: number,
    now: number,
  ): Waiter[] {
    if (this.flights.get(key) === flight) this.flights.delete(key);
    // Used until the time it was sent plus the lease time: on Redis's clock, never after `stamp`.
    const lease = new WindowLease(
      flight.policy,
      reply.leased,
      stamp,
      sentAt + this.leaseMs,
      reply.remaining,
      now + reply.resetMs,
    );
    this.hold(key, lease, now);
    const unserved: Waiter[] = [];
    for (const waiter of flight.waiters) {
      if (lease.fits(flight.policy, now)) waiter.resolve(lease.take(now));
      else unserved.push(waiter);
    }
    return unserved;
  }

  /** The call failed: no lease, and its waiters get its error. */
  abandon(key: string, flight: LeaseFlight, error: Error): void {
    if (this.flights.get(key) === flight) this.flights.delete(key);
    for (const waiter of flight.waiters) waiter.reject(error);
  }

  /** Ends every lease (at shutdown), giving back what is unused. */
  endAll(): void {
    for (const [key, lease] of this.leases) this.end(key, lease);
  }

  private hold(key: string, lease: WindowLease, now: number): void {
    const previous = this.leases.get(key);
    if (previous) this.end(key, previous);
    this.leases.set(key, lease);
    lease.timer = setTimeout(() => this.end(key, lease), Math.max(0, lease.until - now));
    lease.timer.unref();
  }

  private end(key: string, lease: WindowLease): void {
    clearTimeout(lease.timer);
    if (this.leases.get(key) === lease) this.leases.delete(key);
    if (lease.left === 0) return;
    const count = lease.left;
    lease.left = 0;
    this.giveBack(key, lease.policy, lease.stamp, count);
  }
}
