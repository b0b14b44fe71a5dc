/** How one target's breaker opens and cools down. */
export interface BreakerOptions {
  /** Consecutive connect failures or timeouts that take the target out of rotation. */
  failuresToOpen: number;
  /** The first cool-down; each failed probe doubles it, up to `maxCoolDownMs`. */
  coolDownMs: number;
  maxCoolDownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = {
  failuresToOpen: 3,
  coolDownMs: 5_000,
  maxCoolDownMs: 60_000,
};

/** What one attempt told about its target: it answered, it failed to, or nothing either way. */
export type AttemptOutcome = 'answered' | 'failed' | 'unknown';

/**
 * Passive health of one upstream target, learnt from real requests only (no
 * health checks): closed (in rotation) until `failuresToOpen` attempts in a
 * row fail; then open (out of rotation) for a cool-down; then half-open: one
 * real request at a time is let through as a probe, and its answer closes the
 * breaker again while its failure opens it for twice as long. Kept in
 * process: every gateway instance learns on its own.
 */
export class CircuitBreaker {
  private failures = 0;
  private coolDownMs: number;
  /** While out of rotation: when the next probe may go. */
  private openUntil: number | undefined;
  private probing = false;

  constructor(
    private readonly options: BreakerOptions = DEFAULT_BREAKER,
    private readonly now: () => number = Date.now,
  ) {
    this.coolDownMs = options.coolDownMs;
  }

  /** In rotation: no cool-down or probe under way. */
  get inRotation(): boolean {
    return this.openUntil === undefined;
  }

  /** Whether a request may go to the target now (without taking the probe's place). */
  get admits(): boolean {
    return this.openUntil === undefined || (!this.probing && this.now() >= this.openUntil);
  }

  /**
   * Marks a request as sent to the target (call only when `admits`); returns
   * whether it is the probe, which alone decides while out of rotation.
   */
  take(): boolean {
    if (this.openUntil === undefined) return false;
    this.probing = true;
    return true;
  }

  /** Records the outcome of a request sent after `take()`, told whether it was the probe. */
  settle(outcome: AttemptOutcome, probe: boolean): void {
    if (probe) {
      this.probing = false;
      if (outcome === 'answered') {
        this.failures = 0;
        this.coolDownMs = this.options.coolDownMs;
        this.openUntil = undefined;
      } else if (outcome === 'failed') {
        // Out again, for longer. An unknown outcome lets the next request probe instead.
        this.coolDownMs = Math.min(this.coolDownMs * 2, this.options.maxCoolDownMs);
        this.open();
      }
    } else if (this.openUntil === undefined) {
      // Requests sent before the target left rotation count no more once it has.
      if (outcome === 'answered') this.failures = 0;
      else if (outcome === 'failed' && ++this.failures >= this.options.failuresToOpen) this.open();
    }
  }

  private open(): void {
    this.openUntil = this.now() + this.coolDownMs;
  }
}
