import { LatticeError } from '@lattice/common';

/*
 * The four ways a lock can fail, each with its own class and stable code, so a
 * caller (or a process reading a serialised error) can tell a failed
 * acquisition from a lost lease. Messages never name the resources: they can
 * reach an HTTP body through the global filter. The resources, the reason and
 * the underlying error are properties for logs and code.
 *
 * Status: 503 when Redis could not be reached (try again shortly), 409 when
 * another holder is the reason.
 */

/** `unacknowledged`: granted, but no replica confirmed it in time (`replicaAckTimeoutMs`), so given back. */
export type NotAcquiredReason = 'held' | 'unreachable' | 'aborted' | 'unacknowledged';

export class LockNotAcquiredError extends LatticeError {
  constructor(
    readonly resources: readonly string[],
    readonly reason: NotAcquiredReason,
    readonly attempts: number,
    cause?: unknown,
  ) {
    super(
      'LOCK_NOT_ACQUIRED',
      reason === 'held'
        ? 'The resource is busy with another operation; try again shortly'
        : 'The resource could not be locked; try again shortly',
      reason === 'held' ? 409 : 503,
    );
    if (cause !== undefined) this.cause = cause;
  }
}

/** `refused`: Redis no longer had the lease as ours; `expired`: it ran out before an extension was confirmed. */
export type LostReason = 'refused' | 'expired';

export class LockLostError extends LatticeError {
  constructor(
    readonly resources: readonly string[],
    readonly reason: LostReason,
    cause?: unknown,
  ) {
    super('LOCK_LOST', 'The operation lost its lock before it finished; try again', 409);
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * `refused`: Redis no longer has the lease as ours; `expired`: it is already
 * past its validity here, or was released; `unreachable`: no answer from Redis
 * (or from a majority of quorum nodes); `unacknowledged`: extended, but no
 * replica confirmed it in time (`replicaAckTimeoutMs`).
 */
export type ExtendFailedReason = 'refused' | 'expired' | 'unreachable' | 'unacknowledged';

export class LockExtendFailedError extends LatticeError {
  constructor(
    readonly resources: readonly string[],
    readonly reason: ExtendFailedReason,
    cause?: unknown,
  ) {
    super(
      'LOCK_EXTEND_FAILED',
      'The lock could not be extended',
      reason === 'unreachable' || reason === 'unacknowledged' ? 503 : 409,
    );
    if (cause !== undefined) this.cause = cause;
  }
}

/** Only when Redis cannot say whether the lease was ours: an expired lease is reported, not thrown. */
export class LockReleaseFailedError extends LatticeError {
  constructor(
    readonly resources: readonly string[],
    cause?: unknown,
  ) {
    super('LOCK_RELEASE_FAILED', 'The lock could not be released; it expires by itself', 503);
    if (cause !== undefined) this.cause = cause;
  }
}
