import type { Logger } from '@nestjs/common';
import { contend, patienceOf } from './lock.contention';
import { Lock, type LockLease } from './lock.handle';
import { holdLock } from './lock.hold';
import type { LockKeys } from './lock.keys';
import { ownerValue } from './lock.owner';
import { assertTtl } from './lock.timing';
import type { LocalWaiters } from './lock.waiters';
import type { LockWakeups } from './lock.wakeups';
import type { AcquireOptions, LockedWork } from './lock.types';
import type { SlotStore } from './slot.store';

/** @internal What a SlotLock needs from LockService. */
export interface SlotHost {
  readonly store: SlotStore;
  readonly wakeups: LockWakeups;
  readonly local: LocalWaiters;
  readonly logger: Pick<Logger, 'warn'>;
}

/**
 * One way into a shared resource: a permit of a semaphore
 * (`locks.semaphore(name, limit)`), or the read or the write side of a
 * read-write lock (`locks.readWrite(name).read` / `.write`). Each `acquire`
 * returns a Lock of its own, with its own fencing token (strictly greater
 * than every token issued before for the resource, whatever the side), the
 * same extension, release, `using` renewal and errors as a mutex. Waiters are
 * served first come first served (a writer is never overtaken by readers who
 * came after it), woken when their turn comes.
 */
export class SlotLock {
  /** @internal Built by LockService. */
  constructor(
    private readonly host: SlotHost,
    private readonly keys: LockKeys,
    /** 'r': a permit or a reader (at most `limit` at once, 0: any number); 'w': a writer, alone. */
    private readonly mode: 'r' | 'w',
    private readonly limit: number,
  ) {}

  /** The resource this lock guards. */
  get resource(): string {
    return this.keys.resources[0];
  }

  /**
   * Takes a place for `ttlMs`, waiting for its turn within the retry options
   * (as LockService.acquire). `replicaAckTimeoutMs` is not supported here.
   *
   * @throws LockNotAcquiredError (LOCK_NOT_ACQUIRED) when the attempts run
   *   out (`reason` `held` or `unreachable`) or `options.signal` aborts.
   */
  async acquire(ttlMs: number, options: AcquireOptions = {}): Promise<Lock> {
    assertTtl(ttlMs);
    if (options.replicaAckTimeoutMs !== undefined) {
      throw new TypeError('replicaAckTimeoutMs is supported by mutexes only (LockService.acquire)');
    }
    const { store, wakeups, local } = this.host;
    const { keys, limit } = this;
    const member = this.mode + ownerValue();
    const granted = await contend(
      {
        resources: keys.resources,
        keys: keys.leases,
        member,
        attempt: (liveMs) => store.attempt(keys, member, ttlMs, limit, liveMs),
        leave: async () => void (await store.release(keys, member, limit)),
      },
      patienceOf(options),
      wakeups,
      local,
    );
    const lease: LockLease = {
      keys,
      extend: (ttl) => store.extend(keys, member, ttl),
      release: () => store.release(keys, member, limit),
    };
    return new Lock(lease, granted.token, granted.validUntil);
  }

  /** Runs `work(signal, token)` holding a place, renewed while it runs (as LockService.using). */
  async using<T>(ttlMs: number, work: LockedWork<T>, options: AcquireOptions = {}): Promise<T> {
    const lock = await this.acquire(ttlMs, options);
    return holdLock(lock, ttlMs, work, this.host.logger);
  }
}
