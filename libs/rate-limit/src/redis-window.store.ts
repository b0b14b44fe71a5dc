import { join } from 'node:path';
import type { RedisScript, RedisService } from '@lattice/redis';
import { withDeadline } from './deadline';
import type { RateLimitAlgorithm } from './rate-limit.types';
import { MAX_BATCH, WindowCallBatcher } from './window-call.batcher';
import { WindowLeaseBook } from './window-lease.book';
import type { WindowPolicy, WindowResult } from './window-result';
import { type Block, type ScriptCall, WindowScriptCodec } from './window-script.codec';

const SCRIPT = join(__dirname, 'rate-limit.lua');

/**
 * The shared limiter: each request is decided atomically inside one Lua call,
 * in one round trip, on Redis's clock. Made of three parts: the batcher puts
 * the requests of one event-loop turn into shared calls (in Cluster mode,
 * whose multi-key scripts must stay within one slot, one counter a call), the
 * codec writes and reads the script's wire format, and the lease book holds
 * this instance's leases (RATE_LIMIT_LEASE_MS). This class runs the script.
 *
 * A call is never sent twice: the connection has no offline queue and does not
 * resend after a reconnect, and a call that missed its deadline is left to
 * land or fail on its own.
 */
export class RedisWindowStore {
  /** One script per key count, made on first use: ioredis fixes a script's key count. */
  private readonly scripts = new Map<number, RedisScript<number[]>>();
  private readonly leases: WindowLeaseBook;
  private readonly batcher: WindowCallBatcher;

  constructor(
    private readonly redis: RedisService,
    private readonly timeoutMs: number,
    leaseMs = 0,
  ) {
    this.leases = new WindowLeaseBook(leaseMs, (key, policy, stamp, count) =>
      this.batcher.giveBack(key, policy, stamp, count),
    );
    this.batcher = new WindowCallBatcher(
      (call) => this.run(call),
      new WindowScriptCodec(leaseMs),
      this.leases,
      redis.isCluster ? 1 : MAX_BATCH,
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
    block?: Block,
  ): Promise<WindowResult> {
    return this.batcher.consume(key, policy, algorithm, cost, block);
  }

  /** Gives back the unused admissions of every lease (at shutdown), so other instances can use them. */
  release(): Promise<void> {
    this.leases.endAll();
    return this.batcher.flush();
  }

  private run({ keys, args }: ScriptCall): Promise<number[]> {
    return withDeadline(this.script(keys.length).run(keys, args), this.timeoutMs);
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
