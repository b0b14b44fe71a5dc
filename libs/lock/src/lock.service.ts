import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import { RedisService, type RedisClient } from '@lattice/redis';
import { contend, patienceOf, type Contender, type Patience } from './lock.contention';
import { LockEngine } from './lock.engine';
import { engineLease, Lock } from './lock.handle';
import { holdLock } from './lock.hold';
import { lockKeys, type LockKeys } from './lock.keys';
import { LockNode } from './lock.node';
import { LocalWaiters } from './lock.waiters';
import { LockWakeups } from './lock.wakeups';
import { ownerValue } from './lock.owner';
import { assertTtl } from './lock.timing';
import { SlotLock, type SlotHost } from './slot.lock';
import { SlotStore } from './slot.store';
import type { AcquireOptions, LeadOptions, LockedWork, RunOnceOptions } from './lock.types';
import { Leadership } from './leader.election';
import { RunOnceTask } from './run-once.task';
import { traced, tracingEnabled } from '@lattice/observability';

const RUN_ONCE_DEFAULTS = { leaseTtlMs: 15_000, doneTtlMs: 3_600_000, pollMs: 250 };
/** How long the first acknowledged lock waits for its dedicated connection. */
const ACK_CONNECTION_READY_MS = 2_000;

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
  /** Semaphores and read-write locks (on the app's own Redis); made on first use. */
  private slots?: SlotHost;
  /**
   * Locks with replica acknowledgement run on a connection of their own:
   * WAIT blocks the connection it is sent on, and must follow that
   * connection's own write. Opened on first use.
   */
  private acknowledging?: { connection: RedisClient; engine: LockEngine };

  constructor(
    private readonly redis: RedisService,
    config: ConfigService,
    private readonly wakeups: LockWakeups,
  ) {
    const urls = config.get('lock').quorumUrls;
    const nodes = urls.length
      ? urls.map(
          (url, i) => new LockNode(redis.connectStandalone(url, `lock-quorum-${i + 1}`), false),
        )
      : // eslint-disable-next-line no-restricted-syntax -- the commands connection for the lock node, which is the lock lib's repository
        [new LockNode(redis.client, redis.isCluster)];
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
  acquire(
    resources: string | readonly string[],
    ttlMs: number,
    options: AcquireOptions = {},
  ): Promise<Lock> {
    try {
      assertTtl(ttlMs);
      const keys = lockKeys('lock', resources);
      const patience = patienceOf(options);
      if (!tracingEnabled()) return this.acquireKeys(keys, ttlMs, patience, options);
      return traced('lock.acquire', { 'lattice.lock.resources': keys.resources.join(',') }, () =>
        this.acquireKeys(keys, ttlMs, patience, options),
      );
    } catch (error) {
      return Promise.reject(error as Error);
    }
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
    return holdLock(lock, ttlMs, work, this.logger);
  }

  /**
   * A semaphore: at most `limit` holders of `resource` at once, each with a
   * lock (and fencing token) of its own, waiting first come first served.
   * Every caller of one resource must pass the same limit.
   */
  semaphore(resource: string, limit: number): SlotLock {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError('A semaphore limit must be a positive integer');
    }
    return new SlotLock(this.slotHost(), slotKeys('sem', resource), 'r', limit);
  }

  /**
   * A read-write lock on `resource`: any number of readers at once, or one
   * writer alone; first come first served, so a waiting writer is not
   * overtaken by readers who came after it.
   */
  readWrite(resource: string): { read: SlotLock; write: SlotLock } {
    const keys = slotKeys('rw', resource);
    const host = this.slotHost();
    return { read: new SlotLock(host, keys, 'r', 0), write: new SlotLock(host, keys, 'w', 0) };
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

  private slotHost(): SlotHost {
    if (this.engine.isQuorum) {
      throw new TypeError(
        "Semaphores and read-write locks need the app's own Redis, not LOCK_QUORUM_URLS",
      );
    }
    this.slots ??= {
      // eslint-disable-next-line no-restricted-syntax -- the commands connection for the slots' store, which is the lock lib's repository
      store: new SlotStore(this.redis.client),
      wakeups: this.wakeups,
      local: this.waiters,
      logger: this.logger,
    };
    return this.slots;
  }

  /** Plain promise callbacks rather than async/await: a lone lock's loop pays for every hop. */
  private acquireKeys(
    keys: LockKeys,
    ttlMs: number,
    patience: Patience,
    { replicaAckTimeoutMs: ackMs }: AcquireOptions,
  ): Promise<Lock> {
    if (ackMs === undefined) return this.acquireOn(this.engine, keys, ttlMs, patience);
    return this.acknowledgingEngine(ackMs).then((engine) =>
      this.acquireOn(engine, keys, ttlMs, patience, ackMs),
    );
  }

  private acquireOn(
    engine: LockEngine,
    keys: LockKeys,
    ttlMs: number,
    patience: Patience,
    ackMs?: number,
  ): Promise<Lock> {
    const value = ownerValue();
    const contender: Contender = {
      resources: keys.resources,
      keys: keys.leases,
      member: engine.canQueue(keys) ? value : undefined,
      attempt: (liveMs) => engine.attempt(keys, value, ttlMs, undefined, ackMs, liveMs),
      leave: () => engine.leaveQueue(keys, value),
    };
    return contend(contender, patience, this.wakeups, this.waiters).then(
      (granted) =>
        new Lock(
          engineLease(engine, keys, value, ackMs),
          granted.token,
          granted.validUntil,
          this.wakeWaiters,
        ),
    );
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
}

/** A semaphore or read-write lock guards one resource, named by a string. */
function slotKeys(namespace: 'sem' | 'rw', resource: string): LockKeys {
  if (typeof resource !== 'string') throw new TypeError('A resource name must be a string');
  return lockKeys(namespace, resource);
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
