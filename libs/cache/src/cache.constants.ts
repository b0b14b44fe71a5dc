/**
 * Every cache entry lives under this key family (after KEY_PREFIX), so a
 * cache operation — a pattern delete above all — can never reach sessions,
 * locks or any other platform state.
 */
export const CACHE_KEY_PREFIX = 'cache:';

/**
 * A tag's member set: `cache-tag:{<tag>}` (after KEY_PREFIX), the keys of the
 * entries stored with the tag. The braces keep each set in one slot on Redis
 * Cluster; keys and tags never contain braces.
 */
export const CACHE_TAG_PREFIX = 'cache-tag:';

/** Pub/sub channel of the invalidation bus (KEY_PREFIX is applied to it). */
export const INVALIDATION_CHANNEL = 'cache:invalidations';

/** Each instance's own heartbeat channel, `cache:heartbeat:<instance id>`. */
export const HEARTBEAT_CHANNEL_PREFIX = 'cache:heartbeat:';

/** A key: 1 to 256 characters, see CACHE_KEY_RULE. */
export const MAX_KEY_LENGTH = 256;
/** A pattern: 1 to 256 characters, at most this many wildcards. */
export const MAX_PATTERN_LENGTH = 256;
export const MAX_PATTERN_WILDCARDS = 16;
/** Tags one entry may carry. */
export const MAX_TAGS_PER_ENTRY = 32;
/** Tags one deleteTags call may name. */
export const MAX_TAGS_PER_DELETE = 100;
/** Keys named in one bus message of a tag delete (a longer list goes in several). */
export const MAX_KEYS_PER_MESSAGE = 1000;
/** Seconds; a longer TTL is refused (entries must expire). */
export const MAX_TTL_SECONDS = 365 * 24 * 60 * 60;

export const CACHE_DEFAULTS = {
  /** Seconds an entry lives when no `ttl` is given. */
  ttl: 3600,
  /** Each TTL is shortened by up to this fraction, at random, so entries written together do not expire together. */
  jitter: 0.1,
  l1MaxEntries: 10_000,
  l1MaxBytes: 64 * 1024 * 1024,
  l1MaxEntryBytes: 1024 * 1024,
  /** How often an instance checks its invalidation feed end to end. */
  heartbeatMs: 1000,
  /** Without a heartbeat back for this long, the feed is presumed broken and L1 is no longer trusted. */
  staleAfterMs: 5000,
  /** Lease of the cross-instance loader lock (renewed while the loader runs). */
  lockTtlMs: 10_000,
  /** How long a `lock: true` caller waits for another instance's loader. */
  lockWaitMs: 10_000,
  /** A warm-up counts as done for instances starting within this long. */
  warmDoneTtlMs: 10 * 60 * 1000,
  /** Keys per SCAN page and per UNLINK batch in pattern deletes. */
  scanCount: 500,
} as const;
