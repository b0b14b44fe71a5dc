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

export const CONSUMER_DEFAULTS = {
  /** Events read per XREADGROUP. */
  batch: 16,
  /** How long one XREADGROUP blocks; also how often pending events are looked at. */
  blockMs: 2000,
  /**
   * A pending event idle for this long is taken over from its consumer. It
   * must exceed the longest an event can take to apply (a 5 s blob fetch plus
   * a few 2 s Redis commands), or a slow but live consumer would lose it.
   */
  claimIdleMs: 15_000,
  /** After this many deliveries without being applied, an event goes to the dead letters. */
  maxDeliveries: 5,
  /** Approximate caps (XADD/XTRIM MAXLEN ~) on the two streams. */
  eventsMaxLen: 100_000,
  deadMaxLen: 10_000,
  /** Consumers of the group with nothing pending and idle this long are removed. */
  forgetConsumerAfterMs: 24 * 60 * 60 * 1000,
  /** Housekeeping (trim, forget consumers) at most this often. */
  housekeepingMs: 60_000,
} as const;
