import type { Lock } from './lock.handle';
import { LockExtendFailedError, LockLostError, type LostReason } from './lock.errors';

/**
 * Keeps a lock alive while work runs under it: renews the lease once a third
 * of the TTL has passed, retries while Redis is unreachable, and aborts
 * `signal` (reason: a LockLostError) the moment the lock is lost: when a
 * renewal is refused, or when the validity runs out before one is confirmed.
 * A timer at the end of the validity makes that moment exact even while a
 * renewal is still waiting for an answer.
 */
export class LockKeeper {
  private readonly controller = new AbortController();
  private renewTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  private renewing = false;
  private stopped = false;
  private lostError?: LockLostError;

  constructor(
    private readonly lock: Lock,
    private readonly ttlMs: number,
    private readonly onLost: (error: LockLostError) => void = () => undefined,
  ) {
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The loss, if the lock was lost; checks the validity now rather than waiting for a timer. */
  check(): LockLostError | undefined {
    if (!this.lostError && !this.stopped && !this.lock.isHeld) this.lose('expired');
    return this.lostError;
  }

  /** Ends the keeping (the work is over); returns the loss, if the lock was lost meanwhile. */
  stop(): LockLostError | undefined {
    const lost = this.check();
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    return lost;
  }

  /** Aborts the work for another reason than a loss (a leader stepping down); the lease is left to release. */
  abort(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  private arm(): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    const remaining = this.lock.remainingMs;
    if (remaining <= 0) {
      this.lose('expired');
      return;
    }
    this.expiryTimer = setTimeout(() => this.onExpiry(), remaining);
    // Two thirds of the TTL are left for retries while Redis does not answer.
    const renewIn = Math.max(0, remaining - (this.ttlMs * 2) / 3);
    this.renewTimer = setTimeout(() => void this.renew(), renewIn);
  }

  private onExpiry(): void {
    if (this.stopped || this.lostError) return;
    // Extended meanwhile by a direct lock.extend(): keep watching the new end.
    if (this.lock.isHeld) {
      this.expiryTimer = setTimeout(() => this.onExpiry(), this.lock.remainingMs);
      return;
    }
    this.lose('expired');
  }

  private async renew(): Promise<void> {
    if (this.stopped || this.lostError || this.renewing) return;
    this.renewing = true;
    try {
      await this.lock.extend(this.ttlMs);
      if (!this.stopped && !this.lostError) this.arm();
    } catch (error) {
      if (this.stopped || this.lostError) return;
      if (
        error instanceof LockExtendFailedError &&
        (error.reason === 'unreachable' || error.reason === 'unacknowledged')
      ) {
        // Retry until the expiry timer decides; commands fail fast while Redis is down.
        const retryIn = Math.min(Math.max(this.ttlMs / 10, 20), 1000);
        this.renewTimer = setTimeout(() => void this.renew(), retryIn);
      } else {
        const reason: LostReason =
          error instanceof LockExtendFailedError && error.reason === 'refused'
            ? 'refused'
            : 'expired';
        this.lose(reason, error);
      }
    } finally {
      this.renewing = false;
    }
  }

  private lose(reason: LostReason, cause?: unknown): void {
    if (this.lostError) return;
    this.lostError = new LockLostError(this.lock.resources, reason, cause);
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    this.lock.markLost();
    this.controller.abort(this.lostError);
    this.onLost(this.lostError);
  }
}
