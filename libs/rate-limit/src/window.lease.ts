import { samePolicy, type WindowPolicy, type WindowResult } from './window-result';

/**
 * Admissions of one exact counter that this instance reserved in Redis, to
 * hand out without asking Redis again until `until`. Redis stamped them with
 * the end of the lease, so each counts in the window at least as long as the
 * request it admits; the ones left when the lease ends are given back.
 */
export class WindowLease {
  /** Requests admitted from it: the demand the next lease of the key is sized by. */
  served = 0;
  /** Reserved admissions not used yet. */
  left: number;
  timer?: NodeJS.Timeout;

  constructor(
    readonly policy: WindowPolicy,
    /** Admissions reserved; 0 when Redis refused to lease (the window is half used). */
    readonly granted: number,
    /** The value Redis wrote for them: how they are given back. */
    readonly stamp: number,
    /** Local ms after which none may be used: never later than `stamp` on Redis's clock. */
    readonly until: number,
    /** What remained of the limit for everyone once they were reserved. */
    private readonly remainingAfter: number,
    /** Local ms when the oldest counted admission stops counting. */
    private readonly resetAt: number,
  ) {
    this.left = granted;
  }

  /** Whether it can admit a request of `policy` at `now`. */
  fits(policy: WindowPolicy, now: number): boolean {
    return this.left > 0 && now < this.until && samePolicy(policy, this.policy);
  }

  /** Admits one request; call only when fits(). */
  take(now: number): WindowResult {
    this.left--;
    this.served++;
    // The reserved admissions still unused are this instance's to give: they count as remaining.
    return {
      allowed: true,
      remaining: this.remainingAfter + this.left,
      resetMs: Math.max(0, this.resetAt - now),
    };
  }
}
