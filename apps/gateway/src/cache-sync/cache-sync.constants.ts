import type { StreamConsumerSettings } from '@lattice/redis';

/** The contract's event stream and dead-letter stream (CONTRACT 6), under KEY_PREFIX. */
export const EVENTS_STREAM = 'cache-sync:events';
export const DEAD_STREAM = 'cache-sync:dead';
/**
 * On Redis Cluster the two streams carry a hash tag, so that moving an event
 * to the dead letters and acknowledging it is one script on one slot.
 */
export const CLUSTER_EVENTS_STREAM = '{cache-sync}:events';
export const CLUSTER_DEAD_STREAM = '{cache-sync}:dead';
/** The consumer group every gateway instance reads with: each event goes to one of them. */
export const CONSUMER_GROUP = 'cache-sync';

export const EVENT_TYPES = ['SET', 'GET', 'DELETE', 'DELETE_PATTERN'] as const;

/** A blob URL must answer within this long, redirects and body included. */
export const BLOB_TIMEOUT_MS = 5000;
/** A blob body larger than this is refused while it streams in. */
export const BLOB_MAX_BYTES = 5 * 1024 * 1024;
export const BLOB_MAX_REDIRECTS = 5;
/** A DELETE event names at most this many keys. */
export const MAX_DELETE_KEYS = 1000;

/** How the gateway's StreamConsumer reads `cache-sync:events`. */
export const CONSUMER_DEFAULTS: StreamConsumerSettings = {
  batch: 16,
  blockMs: 2000,
  /**
   * A pending event idle for this long is taken over from its consumer. It
   * must exceed the longest an event can take to apply (a 5 s blob fetch plus
   * a few 2 s Redis commands), or a slow but live consumer would lose it.
   */
  claimIdleMs: 15_000,
  maxDeliveries: 5,
  streamMaxLen: 100_000,
  deadMaxLen: 10_000,
  forgetConsumerAfterMs: 24 * 60 * 60 * 1000,
  housekeepingMs: 60_000,
};
