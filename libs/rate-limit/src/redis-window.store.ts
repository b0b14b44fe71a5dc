import { join } from 'node:path';
import type { RedisScript, RedisService } from '@lattice/redis';
import { APPROXIMATE_BUCKETS } from './rate-limit.constants';
import { withDeadline } from './deadline';
import type { RateLimitAlgorithm } from './rate-limit.types';
import type { WindowPolicy, WindowResult } from './window-result';

/** Most requests decided by one script call: it runs in Redis for well under a millisecond. */
export const MAX_BATCH = 64;

const SCRIPT = join(__dirname, 'rate-limit.lua');
const KIND: Record<RateLimitAlgorithm, number> = { exact: 1, approximate: 2 };

interface Pending {
  key: string;
  kind: number;
  limit: number;
  windowMs: number;
  resolve: (result: WindowResult) => void;
  reject: (error: Error) => void;
}

/**
 * The shared limiter: each request is decided atomically inside one Lua call,
 * in one round trip, on Redis's clock. Requests made in the same turn of the
 * event loop share that call (each still decided on its own), which spares
 * Redis and this process one command, one syscall each way and one timer per
 * request. In Cluster mode, whose multi-key scripts must stay within one
 * slot, each request gets its own call.
 *
 * A call is never sent twice: the connection has no offline queue and does not
 * resend after a reconnect, and a call that missed its deadline is left to
 * land or fail on its own.
 */
export class RedisWindowStore {
  /** One script per batch size, made on first use: ioredis fixes a script's key count. */
  private readonly scripts = new Map<number, RedisScript<number[]>>();
  private readonly batching: boolean;
  private queue: Pending[] = [];

  constructor(
    private readonly redis: RedisService,
    private readonly timeoutMs: number,
  ) {
    this.batching = !redis.isCluster;
  }

  consume(key: string, policy: WindowPolicy, algorithm: RateLimitAlgorithm): Promise<WindowResult> {
    return new Promise<WindowResult>((resolve, reject) => {
      const pending: Pending = {
        key,
        kind: KIND[algorithm],
        limit: policy.limit,
        windowMs: policy.windowMs,
        resolve,
        reject,
      };
      if (!this.batching) {
        this.send([pending]);
      } else if (this.queue.push(pending) === 1) {
        // After the I/O phase, so every request read off the sockets in this turn joins.
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += MAX_BATCH) this.send(queue.slice(i, i + MAX_BATCH));
  };

  private send(batch: Pending[]): void {
    // Requests of one call mostly share a few policies: each is sent once, and requests refer to it.
    const keys: string[] = new Array<string>(batch.length);
    const policies: number[] = [];
    const indexes: number[] = new Array<number>(batch.length);
    const seen = new Map<string, number>();
    for (let i = 0; i < batch.length; i++) {
      const { key, kind, limit, windowMs } = batch[i];
      keys[i] = key;
      const id = `${kind}:${limit}:${windowMs}`;
      let index = seen.get(id);
      if (index === undefined) {
        index = seen.size + 1;
        seen.set(id, index);
        policies.push(kind, limit, windowMs);
      }
      indexes[i] = index;
    }
    const args = [APPROXIMATE_BUCKETS, seen.size, ...policies, ...indexes];
    withDeadline(this.script(batch.length).run(keys, args), this.timeoutMs).then(
      (reply) => {
        for (let i = 0; i < batch.length; i++) {
          const remaining = reply[2 * i];
          batch[i].resolve({
            allowed: remaining >= 0,
            remaining: Math.max(0, remaining),
            resetMs: reply[2 * i + 1],
          });
        }
      },
      (error: Error) => {
        for (const pending of batch) pending.reject(error);
      },
    );
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
