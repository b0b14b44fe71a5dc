import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import { RedisService, type RedisClient } from '@lattice/redis';
import { runInLockScope } from './lock.context';
import { LockEngine } from './lock.engine';
import { LockNotAcquiredError } from './lock.errors';
import { Lock } from './lock.handle';
import { lockKeys, type LockKeys } from './lock.keys';
import { LockKeeper } from './lock.keeper';
import { LockNode } from './lock.node';
import { LocalWaiters, type WaitTurn } from './lock.waiters';
import { ownerValue } from './lock.owner';
import { assertTtl, jitter } from './lock.timing';
import type { AcquireOptions, LeadOptions, LockedWork, RunOnceOptions } from './lock.types';
import { Leadership } from './leader.election';
import { RunOnceTask } from './run-once.task';
import { traced } from '@lattice/observability';

const RETRY_DEFAULTS = { retryCount: 50, retryDelayMs: 50, retryJitterMs: 50 };
const RUN_ONCE_DEFAULTS = { leaseTtlMs: 15_000, doneTtlMs: 3_600_000, pollMs: 250 };
/** How long the first acknowledged lock waits for its dedicated connection. */
const ACK_CONNECTION_READY_MS = 2_000;

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer`);
  }
  return value;
}

/**
 * Distributed locks with fencing tokens, run-once tasks and leader leases, on
 * the app's own Redis, or by majority over LOCK_QUORUM_URLS when it is set.
 * See docs/locks.md for what the fencing token guarantees in each mode.
 */
@Injectable()
export class LockService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Lock');
  private readonly engine: LockEngine;
  private readonly shutdown = new AbortController();
  private readonly leaderships = new Set<Leadership>();
  private readonly waiters = new LocalWaiters();
  private readonly wakeWaiters = (leases: readonly string[]) => this.waiters.wake(leases);
  /**
   * Locks with replica acknowledgement run on a connection of their own:
   * WAIT blocks the connection it is sent on, and must follow that
   * connection's own write. Opened on first use.
   */
  private acknowledging?: { connection: RedisClient; engine: LockEngine };

  constructor(
    private readonly redis: RedisService,
    config: ConfigService,
  ) {
    const urls = config.get('lock').quorumUrls;
    const nodes = urls.length
      ? urls.map(
          (url, i) => new LockNode(redis.connectStandalone(url, `lock-quorum-${i + 1}`), false),
        )
      : [new LockNode(redis.client, redis.isCluster)];
    this.engine = new LockEngine(nodes);
  }

  /** `single`: the app's own Redis; `quorum`: a majority of the LOCK_QUORUM_URLS nodes. */
  get mode(): 'single' | 'quorum' {
    return this.engine.isQuorum ? 'quorum' : 'single';
  }

  /**
   * Takes every resource for `ttlMs`, or none, retrying a bounded number of
   * times with jittered pauses while one is held. The lock's fencing token is
   * issued in the same script that takes it.
   *
   * @throws LockNotAcquiredError (LOCK_NOT_ACQUIRED) when the attempts run
   *   out (`reason` `held` or `unreachable`) or `options.signal` aborts.
   */
  async acquire(
    resources: string | readonly string[],
    ttlMs: number,
    options: AcquireOptions = {},
  ): Promise<Lock> {
    assertTtl(ttlMs);
    const names = typeof resources === 'string' ? resources : resources.join(',');
    return traced('lock.acquire', { 'lattice.lock.resources': names }, () =>
      this.acquireKeys(lockKeys('lock', resources), ttlMs, options),
    );
  }

  /**
   * Runs `work(signal, token)` under the lock, renewing it automatically, and
   * releases it after. `signal` aborts the moment the lock is lost (a renewal
   * refused, or Redis unreachable until the lease ran out); then `using`
   * rejects with LockLostError (LOCK_LOST) whatever `work` did, because its
   * result can no longer be trusted to have been exclusive.
   */
  async using<T>(
    resources: string | readonly string[],
    ttlMs: number,
    work: LockedWork<T>,
    options: AcquireOptions = {},
  ): Promise<T> {
    const lock = await this.acquire(resources, ttlMs, options);
    return this.hold(lock, ttlMs, work);
  }

  /**
   * Of all instances calling `runOnce(name, ...)`, one runs `task` and the
   * others wait; all resolve once it finished. A finished run counts for
   * `doneTtlMs` (callers in that window resolve at once). If the runner dies,
   * another caller takes over after `leaseTtlMs`; if `task` throws, the
   * runner's call rejects with that error and a waiting caller runs it.
   */
  async runOnce(name: string, task: LockedWork<void>, options: RunOnceOptions = {}): Promise<void> {
    const settings = { ...RUN_ONCE_DEFAULTS, ...withoutUndefined(options) };
    assertTtl(settings.leaseTtlMs, 'leaseTtlMs');
    assertTtl(settings.doneTtlMs, 'doneTtlMs');
    assertTtl(settings.pollMs, 'pollMs');
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.shutdown.signal])
      : this.shutdown.signal;
    const keys = lockKeys('runonce', name);
    await new RunOnceTask(this.engine, keys, task, { ...settings, signal }, this.logger).run();
  }

  /**
   * Campaigns for the leader lease `name` in the background. While this
   * instance leads, the lease is renewed every third of `ttlMs` and `job`
   * runs (every `options.everyMs`, or once per term); when its process dies,
   * another instance leads within `ttlMs`. Stop with `leadership.stop()`;
   * the app's shutdown stops every leadership.
   */
  lead(name: string, ttlMs: number, job: LockedWork<void>, options: LeadOptions = {}): Leadership {
    assertTtl(ttlMs);
    if (options.everyMs !== undefined) assertTtl(options.everyMs, 'everyMs');
    if (this.shutdown.signal.aborted) throw new Error('The app is shutting down');
    const leadership = new Leadership(
      this.engine,
      lockKeys('leader', name),
      name,
      ttlMs,
      job,
      options,
      this.logger,
    );
    this.leaderships.add(leadership);
    return leadership;
  }

  /** Before Redis closes: leaders step down (releasing their leases) and run-once waits end. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shutdown.abort(new Error('The app is shutting down'));
    await Promise.all([...this.leaderships].map((leadership) => leadership.stop()));
    this.leaderships.clear();
  }

  private async acquireKeys(keys: LockKeys, ttlMs: number, options: AcquireOptions): Promise<Lock> {
    const retryCount = nonNegativeInteger(
      options.retryCount ?? RETRY_DEFAULTS.retryCount,
      'retryCount',
    );
    const delay = nonNegativeInteger(
      options.retryDelayMs ?? RETRY_DEFAULTS.retryDelayMs,
      'retryDelayMs',
    );
    const spread = nonNegativeInteger(
      options.retryJitterMs ?? RETRY_DEFAULTS.retryJitterMs,
      'retryJitterMs',
    );
    const { signal, replicaAckTimeoutMs: ackMs } = options;
    const engine = ackMs === undefined ? this.engine : await this.acknowledgingEngine(ackMs);
    const value = ownerValue();
    let turn: WaitTurn | undefined;
    try {
      for (let attempts = 1; ; attempts++) {
        if (signal?.aborted) {
          throw new LockNotAcquiredError(keys.resources, 'aborted', attempts - 1, signal.reason);
        }
        const attempt = await engine.attempt(keys, value, ttlMs, undefined, ackMs);
        if (attempt.kind === 'granted') {
          const { token, validUntil } = attempt;
          return new Lock(engine, keys, value, token, validUntil, this.wakeWaiters, ackMs);
        }
        if (attempts > retryCount) {
          throw attempt.kind === 'unreachable'
            ? new LockNotAcquiredError(keys.resources, 'unreachable', attempts, attempt.cause)
            : new LockNotAcquiredError(
                keys.resources,
                attempt.kind === 'unacknowledged' ? 'unacknowledged' : 'held',
                attempts,
              );
        }
        const pause = delay + jitter(spread);
        // No use waiting past the moment the blocking lease runs out.
        const wait =
          attempt.kind === 'held' && attempt.retryAfterMs >= 0
            ? Math.min(pause, attempt.retryAfterMs + 1)
            : pause;
        turn ??= this.waiters.enter(keys.leases);
        await turn.pause(wait, signal);
      }
    } finally {
      turn?.leave();
    }
  }

  /**
   * The engine for locks with replica acknowledgement (see AcquireOptions),
   * over the dedicated connection, once it is ready.
   */
  private async acknowledgingEngine(ackTimeoutMs: number): Promise<LockEngine> {
    if (!Number.isSafeInteger(ackTimeoutMs) || ackTimeoutMs < 1 || ackTimeoutMs > 2_147_483_647) {
      throw new RangeError('replicaAckTimeoutMs must be an integer number of milliseconds from 1');
    }
    if (this.engine.isQuorum || this.redis.isCluster) {
      throw new TypeError('replicaAckTimeoutMs needs a standalone or Sentinel Redis');
    }
    if (!this.acknowledging) {
      const connection = this.redis.createBlockingConnection('lock-replica-ack');
      const engine = new LockEngine([new LockNode(connection, false)]);
      this.acknowledging = { connection, engine };
    }
    const { connection, engine } = this.acknowledging;
    if (connection.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          connection.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, ACK_CONNECTION_READY_MS);
        connection.on('ready', done);
      });
    }
    // Not ready in time: the attempts fail fast as `unreachable` and are retried as usual.
    return engine;
  }

  private async hold<T>(lock: Lock, ttlMs: number, work: LockedWork<T>): Promise<T> {
    const keeper = new LockKeeper(lock, ttlMs, (lost) =>
      this.logger.warn(`Lost the lock on ${lock.resources.join(', ')} (${lost.reason})`),
    );
    let result: T;
    try {
      const scope = { lock, token: lock.token, signal: keeper.signal };
      result = await runInLockScope(scope, () => work(keeper.signal, lock.token));
    } catch (error) {
      const lost = keeper.stop();
      await this.releaseQuietly(lock);
      if (lost && error !== lost && lost.cause === undefined) lost.cause = error;
      throw lost ?? error;
    }
    const lost = keeper.stop();
    await this.releaseQuietly(lock);
    if (lost) throw lost;
    return result;
  }

  /** The work is over: a release that fails only leaves a lease that expires by itself. */
  private async releaseQuietly(lock: Lock): Promise<void> {
    try {
      await lock.release();
    } catch (error) {
      this.logger.warn(
        `Could not release the lock on ${lock.resources.join(', ')}: ${String(error)}`,
      );
    }
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
