import type { Attempt } from './lock.engine';
import { LockNotAcquiredError } from './lock.errors';
import { jitter } from './lock.timing';
import type { LocalWaiters, WaitTurn } from './lock.waiters';
import type { Listener, LockWakeups } from './lock.wakeups';
import type { AcquireOptions } from './lock.types';

export type Granted = Extract<Attempt, { kind: 'granted' }>;

/** One acquisition that may have to wait: a mutex, a semaphore permit, a read or a write lock. */
export interface Contender {
  readonly resources: readonly string[];
  /** Its lease (or holder) keys: their wait queues and wake-up channels are named after them. */
  readonly keys: readonly string[];
  /**
   * Its name in the queues; absent when it cannot queue (quorum mode,
   * several resources on Cluster): then it polls.
   */
  readonly member?: string;
  /** One attempt; `liveMs` > 0 takes or keeps a place in the queues for that long. */
  attempt(liveMs: number): Promise<Attempt>;
  /** Gives up the place in the queues (best effort: it expires with its deadline anyway). */
  leave(): Promise<void>;
}

export interface Patience {
  retryCount: number;
  retryDelayMs: number;
  retryJitterMs: number;
  signal?: AbortSignal;
}

/**
 * How long a queued waiter keeps its place without a new attempt: twice its
 * longest pause and a second. A waiter that died loses its place that long
 * after its last attempt, and the waiters behind it move up.
 */
export const placeKeptMs = (patience: Patience): number =>
  2 * (patience.retryDelayMs + patience.retryJitterMs) + 1_000;

/**
 * Attempts until granted, at most `retryCount` times after the first. The
 * first attempt does not queue (nothing to pay when the resource is free),
 * unless other waiters of this process already listen for the resource;
 * once refused, the contender listens on its resources' wake-up channels and
 * takes its place in their queues, first come first served, and is woken when
 * its turn comes. The jittered pause between attempts remains as the safety
 * net for a lost message, a waiter that died before its turn, or a lease
 * that expired (then the first in line tries when it runs out).
 * Without a queue (quorum mode, several resources on Cluster), it polls;
 * a lock released in this process wakes the longest local waiter.
 */
export function contend(
  contender: Contender,
  patience: Patience,
  wakeups: LockWakeups,
  local: LocalWaiters,
): Promise<Granted> {
  // Others of this process already wait: the first attempt would be refused, so queue at once.
  const queueAtOnce =
    contender.member !== undefined && patience.retryCount > 0 && wakeups.awaited(contender.keys);
  if (queueAtOnce || patience.signal?.aborted) {
    return wait(contender, patience, wakeups, local, { queueAtOnce });
  }
  // The common case, a free resource: one attempt, without the loop's own promise hops.
  return contender
    .attempt(0)
    .then((first) =>
      first.kind === 'granted' ? first : wait(contender, patience, wakeups, local, { first }),
    );
}

/**
 * contend()'s loop: from the refused `first` attempt (made without queueing),
 * or from a first attempt of its own, queued at once when `queueAtOnce`.
 */
async function wait(
  contender: Contender,
  patience: Patience,
  wakeups: LockWakeups,
  local: LocalWaiters,
  { first, queueAtOnce = false }: { first?: Attempt; queueAtOnce?: boolean },
): Promise<Granted> {
  const { retryCount, retryDelayMs, retryJitterMs, signal } = patience;
  const liveMs = placeKeptMs(patience);
  let listener: Listener | undefined;
  let turn: WaitTurn | undefined;
  let queued = false;
  if (queueAtOnce && contender.member !== undefined) {
    listener = wakeups.listen(contender.keys, contender.member);
    queued = true;
  }
  try {
    for (let attempts = 1; ; attempts++) {
      let attempt: Attempt;
      if (attempts === 1 && first) {
        attempt = first;
      } else {
        if (signal?.aborted) {
          throw new LockNotAcquiredError(
            contender.resources,
            'aborted',
            attempts - 1,
            signal.reason,
          );
        }
        attempt = await contender.attempt(queued ? liveMs : 0);
      }
      if (attempt.kind === 'granted') {
        queued = false; // the grant took it out of the queues
        return attempt;
      }
      if (attempts > retryCount) {
        throw attempt.kind === 'unreachable'
          ? new LockNotAcquiredError(contender.resources, 'unreachable', attempts, attempt.cause)
          : new LockNotAcquiredError(
              contender.resources,
              attempt.kind === 'unacknowledged' ? 'unacknowledged' : 'held',
              attempts,
            );
      }
      const pause = retryDelayMs + jitter(retryJitterMs);
      if (contender.member !== undefined && !listener) {
        // Subscribed before queueing, so no announcement of its turn can be missed.
        listener = wakeups.listen(contender.keys, contender.member);
        await within(listener.ready, pause);
        queued = true;
        continue;
      }
      // No use waiting past the moment the blocking lease runs out.
      const wait =
        attempt.kind === 'held' && attempt.retryAfterMs >= 0
          ? Math.min(pause, attempt.retryAfterMs + 1)
          : pause;
      if (listener) {
        await listener.pause(wait, signal);
      } else {
        turn ??= local.enter(contender.keys);
        await turn.pause(wait, signal);
      }
    }
  } finally {
    listener?.stop();
    turn?.leave();
    if (queued) void contender.leave();
  }
}

/** `promise`, or nothing after `ms` (a subscriber that is down must not stall the waiter). */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const RETRY_DEFAULTS = { retryCount: 50, retryDelayMs: 50, retryJitterMs: 50 };

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer`);
  }
  return value;
}

/** The retry options of an acquisition, checked, with their defaults. */
export function patienceOf(options: AcquireOptions): Patience {
  return {
    retryCount: nonNegativeInteger(options.retryCount ?? RETRY_DEFAULTS.retryCount, 'retryCount'),
    retryDelayMs: nonNegativeInteger(
      options.retryDelayMs ?? RETRY_DEFAULTS.retryDelayMs,
      'retryDelayMs',
    ),
    retryJitterMs: nonNegativeInteger(
      options.retryJitterMs ?? RETRY_DEFAULTS.retryJitterMs,
      'retryJitterMs',
    ),
    signal: options.signal,
  };
}
