/**
 * Whether Redis is worth asking. Closed (the normal state), every request asks
 * Redis; the first failure opens it, and from then on no request waits on
 * Redis at all. While open, a background probe runs (never awaited by a
 * request): the first at once, then every `probeIntervalMs` whether requests
 * come or not, sooner never; the first probe that succeeds closes it again. It
 * starts open when the connection is not up yet, so the first requests of a
 * starting app do not count as a failure, and closes as soon as a probe gets
 * through rather than at the first request after.
 */
export class RedisCircuit {
  private openSince: number | null = null;
  private nextProbeAt = 0;
  private probing = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly probe: () => Promise<boolean>,
    private readonly probeIntervalMs: number,
    private readonly onChange: (open: boolean, reason?: unknown) => void,
    startOpen = false,
  ) {
    if (startOpen) this.openSince = 0;
  }

  get isOpen(): boolean {
    return this.openSince !== null;
  }

  /** True when Redis may be called now. */
  allows(now: number): boolean {
    if (this.openSince === null) return true;
    if (now >= this.nextProbeAt) this.probeNow();
    return false;
  }

  /** Starts a probe unless one is running or the circuit is closed. */
  probeNow(): void {
    if (this.probing || this.openSince === null) return;
    this.startProbe();
  }

  open(now: number, reason: unknown): void {
    if (this.openSince !== null) return;
    this.openSince = now;
    // The first probe goes at once: after a brief stall its PING, queued behind the
    // late calls, answers as soon as Redis does, so the circuit is open no longer
    // than the stall. Only later probes keep to the interval.
    this.nextProbeAt = now;
    this.onChange(true, reason);
  }

  private startProbe(): void {
    this.probing = true;
    void this.probe()
      .catch(() => false)
      .then((ok) => {
        this.probing = false;
        if (ok && this.openSince !== null) {
          this.openSince = null;
          this.onChange(false);
        } else if (this.openSince !== null && !this.stopped) {
          this.nextProbeAt = Date.now() + this.probeIntervalMs;
          clearTimeout(this.retry);
          this.retry = setTimeout(() => this.probeNow(), this.probeIntervalMs);
          this.retry.unref();
        }
      });
  }

  /** Stops the background probes (at shutdown). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }
}
