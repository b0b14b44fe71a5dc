interface Waiter {
  /** Set while the waiter sleeps between two attempts. */
  wake?: () => void;
}

export interface WaitTurn {
  /** Sleeps `ms`, or less when a lock of this process frees one of the resources (or `signal` aborts). */
  pause(ms: number, signal?: AbortSignal): Promise<void>;
  leave(): void;
}

/**
 * The acquisitions waiting in this process, per lease key. When a lock of
 * this process is released, the longest-waiting of them tries again at once
 * instead of at its next poll: contention within an instance is handed over
 * in arrival order without a polling delay. Waiters in other processes still
 * poll; this only changes when an attempt is made, never what Redis decides.
 */
export class LocalWaiters {
  private readonly queues = new Map<string, Set<Waiter>>();

  enter(leases: readonly string[]): WaitTurn {
    const waiter: Waiter = {};
    for (const lease of leases) {
      let queue = this.queues.get(lease);
      if (!queue) this.queues.set(lease, (queue = new Set()));
      queue.add(waiter);
    }
    return {
      pause: (ms, signal) =>
        new Promise<void>((resolve) => {
          if (signal?.aborted) return resolve();
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            waiter.wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, Math.max(0, ms));
          signal?.addEventListener('abort', done, { once: true });
          waiter.wake = done;
        }),
      leave: () => {
        for (const lease of leases) {
          const queue = this.queues.get(lease);
          queue?.delete(waiter);
          if (queue?.size === 0) this.queues.delete(lease);
        }
      },
    };
  }

  /** Leases this process just released: on each, the longest-waiting sleeper tries now. */
  wake(leases: readonly string[]): void {
    for (const lease of leases) {
      const queue = this.queues.get(lease);
      if (!queue) continue;
      for (const waiter of queue) {
        if (waiter.wake) {
          waiter.wake();
          break;
        }
      }
    }
  }
}
