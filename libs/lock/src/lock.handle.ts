import type { Extension, LockEngine, Release } from './lock.engine';
import { LockExtendFailedError, LockReleaseFailedError } from './lock.errors';
import type { LockKeys } from './lock.keys';
import { assertTtl, monotonicNow } from './lock.timing';
import type { ReleaseResult } from './lock.types';

type State = 'held' | 'lost' | 'released';

/** What a Lock does in Redis: renew and end its lease (a mutex's, a semaphore permit's...). */
export interface LockLease {
  readonly keys: LockKeys;
  extend(ttlMs: number): Promise<Extension>;
  release(): Promise<Release>;
}

/** The lease of a mutex, a run-once runner or a leader: the engine's scripts, for `value`. */
export function engineLease(
  engine: LockEngine,
  keys: LockKeys,
  value: string,
  ackTimeoutMs?: number,
): LockLease {
  return {
    keys,
    extend: (ttlMs) => engine.extend(keys, value, ttlMs, ackTimeoutMs),
    release: () => engine.release(keys, value),
  };
}

/**
 * A held lock. Its `token` is the fencing token: strictly greater than every
 * token issued before for any of its resources. Present it to the protected
 * resource with every write, and have the resource refuse a token lower than
 * the highest it has seen: that, not the lease, is what makes a paused holder
 * harmless.
 */
export class Lock {
  private state: State = 'held';
  private validUntil: number;
  private wallExpiry: number;

  /** @internal Built by LockService. */
  constructor(
    private readonly lease: LockLease,
    /** The fencing token (a bigint: compare with `<`, send as `token.toString()`). */
    readonly token: bigint,
    validUntil: number,
    /** Told which leases this lock released, so waiters in this process can try at once. */
    private readonly onReleased?: (leases: readonly string[]) => void,
  ) {
    this.validUntil = validUntil;
    this.wallExpiry = Date.now() + (validUntil - monotonicNow());
  }

  /** The resources this lock holds, distinct and sorted. */
  get resources(): readonly string[] {
    return this.lease.keys.resources;
  }

  /**
   * When the lease ends unless extended, in epoch ms: the TTL counted from the
   * start of the attempt that won it (or of the last extension), less an
   * allowance for clock drift, so that it falls before Redis's own expiry.
   */
  get expiresAt(): number {
    return this.wallExpiry;
  }

  /** Milliseconds of validity left (0 once expired, lost or released). */
  get remainingMs(): number {
    return this.state === 'held' ? Math.max(0, this.validUntil - monotonicNow()) : 0;
  }

  /** Held and within its validity, as far as this process can tell without asking Redis. */
  get isHeld(): boolean {
    return this.remainingMs > 0;
  }

  /**
   * Makes the lease last `ttlMs` from now. Refused (LOCK_EXTEND_FAILED) when
   * the lock is already past its validity here, when Redis no longer has it as
   * ours, or when Redis cannot be reached.
   */
  async extend(ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    if (!this.isHeld) throw new LockExtendFailedError(this.resources, 'expired');
    const outcome = await this.lease.extend(ttlMs);
    switch (outcome.kind) {
      case 'extended':
        // An answer that arrives after the lock was given up changes nothing.
        if (this.state !== 'held') throw new LockExtendFailedError(this.resources, 'expired');
        this.validUntil = outcome.validUntil;
        this.wallExpiry = Date.now() + (outcome.validUntil - monotonicNow());
        return;
      case 'refused':
        this.state = 'lost';
        throw new LockExtendFailedError(this.resources, 'refused');
      case 'unreachable':
        throw new LockExtendFailedError(this.resources, 'unreachable', outcome.cause);
      case 'unacknowledged':
        throw new LockExtendFailedError(this.resources, 'unacknowledged');
    }
  }

  /**
   * Ends the lease. `{ released: false }` when it had already expired or been
   * taken over, which is no error; LOCK_RELEASE_FAILED only when Redis could
   * not be asked (the lease then expires by itself).
   */
  release(): Promise<ReleaseResult> {
    if (this.state === 'released') return Promise.resolve({ released: false });
    const before = this.state;
    this.state = 'released';
    // A promise callback rather than async/await: a lone lock's loop pays for every hop.
    return this.lease.release().then((outcome) => {
      if (outcome.kind === 'unreachable') {
        // Still ours as far as we know, so a retry may release it.
        this.state = before;
        throw new LockReleaseFailedError(this.resources, outcome.cause);
      }
      if (outcome.kind === 'released') this.onReleased?.(this.lease.keys.leases);
      return { released: before === 'held' && outcome.kind === 'released' };
    });
  }

  /** @internal The lock's keeper gave it up: no more extensions. */
  markLost(): void {
    if (this.state === 'held') this.state = 'lost';
  }
}
