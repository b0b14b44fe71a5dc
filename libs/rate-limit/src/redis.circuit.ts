/** The reason given when a circuit that started open first turns a caller away. */
export const STARTING = 'not connected yet, the app is starting';

/**
 * Whether Redis is worth asking. Closed (the normal state), every request asks
 * Redis; the first failure opens it, and from then on no request waits on
 * Redis at all. While open, a background probe runs (never awaited by a
 * request): the first at once, then every `probeIntervalMs` whether requests
 * come or not, sooner never; the first probe that succeeds closes it again. It
 * starts open when the connection is not up yet, and closes as soon as a probe
 * gets through rather than at the first request after. Starting open is
 * reported (`onChange(true, STARTING)`) only when a caller is first turned
 * away: a start whose connection comes up before any request reports nothing,
 * one that decides requests without Redis meanwhile reports it as any outage.
 */
export class RedisCircuit {
  private openSince: number | null = null;
  /** Open since the start, and no caller turned away yet: not reported so far. */
  private unreported = false;
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
    if (startOpen) {
      this.openSince = Date.now();
      this.unreported = true;
    }
  }

  get isOpen(): boolean {
    return this.openSince !== null;
  }

  /** When it opened (ms since the epoch; its construction when it started open), null while closed. */
  get openedAt(): number | null {
    return this.openSince;
  }

  /** True when Redis may be called now; false means the caller decides without Redis. */
  allows(now: number): boolean {
    if (this.openSince === null) return true;
    if (this.unreported) {
      // The first decision taken without Redis since the start: as much a fallback as an outage's.
      this.unreported = false;
      this.onChange(true, STARTING);
    }
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
          this.unreported = false;
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
