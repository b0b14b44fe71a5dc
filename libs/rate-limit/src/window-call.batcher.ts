import type { RateLimitAlgorithm } from './rate-limit.types';
import type { LeaseFlight, Waiter, WindowLeaseBook } from './window-lease.book';
import type { WindowPolicy, WindowResult } from './window-result';
import {
  type Block,
  EXACT,
  NO_BLOCK,
  SCRIPT_KIND,
  type ScriptCall,
  type ScriptGroup,
  type WindowScriptCodec,
} from './window-script.codec';

/** Most counters decided by one script call: it runs in Redis for well under a millisecond. */
export const MAX_BATCH = 64;

/** Runs one call of the script; rejects when Redis fails or misses its deadline. */
export type ScriptSender = (call: ScriptCall) => Promise<number[]>;

interface Pending extends Waiter, WindowPolicy {
  key: string;
  block: Block;
  kind: number;
  cost: number;
}

interface Group extends ScriptGroup {
  requests: Waiter[];
  /** Set on a lease call. */
  flight?: LeaseFlight;
}

/**
 * Coalesces the requests of one event-loop turn into script calls: grouped by
 * counter (each request still decided on its own), at most `perCall` groups a
 * call, with the leases that the lease book plans and the unused leased
 * admissions it gives back. A failed call rejects every request it carried;
 * a giveback that failed leaves its admissions to age out of the window.
 */
export class WindowCallBatcher {
  private queue: Pending[] = [];
  private givebacks: Group[] = [];
  private flushing = false;

  constructor(
    private readonly send: ScriptSender,
    private readonly codec: WindowScriptCodec,
    private readonly leases: WindowLeaseBook,
    private readonly perCall = MAX_BATCH,
  ) {}

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
      const kind = SCRIPT_KIND[algorithm];
      this.enqueue({ key, kind, limit, windowMs, cost, block, resolve, reject });
    });
  }

  /** Returns unused leased admissions to Redis with the next call. */
  giveBack(key: string, policy: WindowPolicy, stamp: number, count: number): void {
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

  /** Sends everything queued now; settles when every call has. */
  flush(): Promise<void> {
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
      calls.push(this.call(groups.slice(i, i + this.perCall)));
    }
    return Promise.all(calls).then(() => undefined);
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

  private call(groups: Group[]): Promise<void> {
    const encoded = this.codec.encode(groups);
    const sentAt = Date.now();
    return this.send(encoded).then(
      (reply) => {
        const now = Date.now();
        const stamp = this.codec.leaseStamp(reply);
        for (let i = 0; i < groups.length; i++)
          this.settle(groups[i], reply, i, stamp, sentAt, now);
      },
      (error: Error) => {
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
}
