/** One read or write whose result may be put into L1 once it completes. */
export interface PendingFill {
  readonly key: string;
  readonly generation: number;
  /** The feed was complete when the operation started (else its result is never cached). */
  readonly trustedAtStart: boolean;
  /** The key was invalidated while the operation was in flight. */
  dirty: boolean;
  /**
   * When dirty: the version written by the latest change announced for the
   * key — a result carrying exactly it is still current — or null when that
   * change was a delete, a pattern, or unknown.
   */
  acceptedVersion: string | null;
  settled: boolean;
}

/**
 * Decides whether a value that just came back from Redis may enter L1.
 *
 * A read can return a value that was current when Redis executed it and
 * invalidated by the time the answer arrives (the invalidation travels on
 * another connection). Every operation that may fill L1 registers here before
 * it goes to Redis; an invalidation of its key (or a pattern matching it, or
 * the loss of the invalidation feed) while it is in flight marks it dirty. A
 * dirty result is returned to its caller but cached only if it carries the
 * version that the latest announced change wrote: announcements arrive in the
 * order Redis made the changes, so that result is the newest one known.
 */
export class FillTracker {
  private readonly pending = new Map<string, Set<PendingFill>>();
  private generation = 0;
  private trusted = false;

  /** Whether L1 may be read and filled: the invalidation feed is known to be complete. */
  get isTrusted(): boolean {
    return this.trusted;
  }

  begin(key: string): PendingFill {
    const fill: PendingFill = {
      key,
      generation: this.generation,
      trustedAtStart: this.trusted,
      dirty: false,
      acceptedVersion: null,
      settled: false,
    };
    let set = this.pending.get(key);
    if (!set) this.pending.set(key, (set = new Set()));
    set.add(fill);
    return fill;
  }

  /**
   * Ends the operation; true when its result (of `version`, if it has one)
   * may be cached. Later calls return false.
   */
  settle(fill: PendingFill, version?: string): boolean {
    if (fill.settled) return false;
    fill.settled = true;
    const set = this.pending.get(fill.key);
    if (set) {
      set.delete(fill);
      if (set.size === 0) this.pending.delete(fill.key);
    }
    if (!this.trusted || !fill.trustedAtStart || fill.generation !== this.generation) return false;
    return !fill.dirty || (version !== undefined && fill.acceptedVersion === version);
  }

  /**
   * Nothing this instance knows of has invalidated the operation's key since
   * it started, so a caller arriving now may share its result.
   */
  isCurrent(fill: PendingFill): boolean {
    return !fill.dirty && fill.generation === this.generation;
  }

  /** `version`: what the change wrote; omitted for a delete. */
  invalidateKey(key: string, version?: string, except?: PendingFill): void {
    const set = this.pending.get(key);
    if (!set) return;
    for (const fill of set) {
      if (fill === except) continue;
      fill.dirty = true;
      fill.acceptedVersion = version ?? null;
    }
  }

  invalidateMatching(pattern: RegExp): void {
    for (const [key, set] of this.pending) {
      if (!pattern.test(key)) continue;
      for (const fill of set) {
        fill.dirty = true;
        fill.acceptedVersion = null;
      }
    }
  }

  /** Nothing in flight may be cached: every result was read before something unknown happened. */
  invalidateAll(): void {
    this.generation++;
  }

  /** The feed is lost: stop trusting L1 and everything in flight. */
  distrust(): void {
    this.trusted = false;
    this.generation++;
  }

  /** The feed is complete again (subscribed): operations starting now may fill L1. */
  trust(): void {
    this.trusted = true;
  }
}
