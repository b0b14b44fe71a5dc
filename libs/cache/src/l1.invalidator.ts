import { type CacheMetrics } from './cache.metrics';
import { type FillTracker } from './fill.tracker';
import { globToRegExp } from './glob.matcher';
import { type BusListener, type Invalidation } from './invalidation.bus';
import { type MemoryTier } from './memory.tier';

/**
 * How this instance learns that keys may have changed, and what it does
 * about it: L1's copies are dropped, reads in flight are barred from filling
 * L1 with what they read (FillTracker), and the keys' watchers are told. It
 * is the invalidation bus's listener (changes made elsewhere, a lost or
 * regained feed), and CacheStore calls it for the changes made here.
 */
export class L1Invalidator implements BusListener {
  /** Listeners of `watch`, by full key. */
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(
    private readonly memory: MemoryTier,
    private readonly tracker: FillTracker,
    private readonly metrics: CacheMetrics,
  ) {}

  /** Calls `listener` whenever `key` may have changed (see CacheStore.watch); returns how to stop. */
  watch(key: string, listener: () => void): () => void {
    let listeners = this.watchers.get(key);
    if (!listeners) this.watchers.set(key, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.watchers.delete(key);
    };
  }

  /** A change made by another instance. */
  invalidated(change: Invalidation): void {
    this.metrics.invalidations.remote.inc();
    if ('key' in change) {
      // A copy already holding the version just written (read after the write, before its
      // announcement arrived) is current; reads still in flight may predate the write, so they are not.
      this.tracker.invalidateKey(change.key, change.version);
      if (change.version === undefined || this.memory.versionOf(change.key) !== change.version) {
        this.memory.delete(change.key);
      }
      this.notify(change.key);
      return;
    }
    if ('keys' in change) {
      for (const key of change.keys) {
        this.forget(key);
        this.notify(key);
      }
      return;
    }
    let matcher: RegExp;
    try {
      matcher = globToRegExp(change.pattern);
    } catch {
      this.forgetEverything();
      this.notify();
      return;
    }
    this.forgetMatching(matcher);
    this.notify(matcher);
  }

  /** A message that could not be read: anything may have changed. */
  unreadable(): void {
    this.forgetEverything();
    this.notify();
  }

  /** The feed may miss changes from now on: L1 is emptied and bypassed until it is back. */
  lost(): void {
    this.tracker.distrust();
    this.memory.clear();
    this.metrics.feedLost.inc();
  }

  /** The feed is complete again. */
  regained(): void {
    this.tracker.trust();
    // Whatever changed while the feed was down went unannounced.
    this.notify();
  }

  /** Tells the watchers of `which` (a key, the keys a pattern matches, or every key). */
  notify(which?: string | RegExp): void {
    if (this.watchers.size === 0) return;
    for (const [key, listeners] of this.watchers) {
      if (which === undefined || (typeof which === 'string' ? which === key : which.test(key))) {
        for (const listener of listeners) listener();
      }
    }
  }

  /** Drops L1's copy of `key` and bars reads of it in flight from filling L1. */
  forget(key: string): void {
    this.memory.delete(key);
    this.tracker.invalidateKey(key);
  }

  /** As forget, for every key `matcher` matches. */
  forgetMatching(matcher: RegExp): void {
    this.memory.deleteMatching(matcher);
    this.tracker.invalidateMatching(matcher);
  }

  /** As forget, for every key. */
  forgetEverything(): void {
    this.memory.clear();
    this.tracker.invalidateAll();
  }
}
