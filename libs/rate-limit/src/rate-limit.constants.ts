import type { RateLimitModuleOptions } from './rate-limit.types';

/** Defaults of RateLimitModuleOptions; see docs/rate-limit.md for why these values. */
export const RATE_LIMIT_DEFAULTS: Required<Omit<RateLimitModuleOptions, 'policies'>> = {
  // Tens of ms: far above a healthy round trip (well under 1 ms), far below a stall users notice.
  redisTimeoutMs: 50,
  probeIntervalMs: 500,
  maxLocalKeys: 100_000,
};

/** Buckets per window of the approximate algorithm: it may refuse early by at most 1/60 of the window. */
export const APPROXIMATE_BUCKETS = 60;

/** Buckets per window of the in-process fallback: coarser, so memory per key stays small. */
export const FALLBACK_BUCKETS = 20;

export const POLICY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_LIMIT = 1_000_000_000;
export const MAX_WINDOW_SECONDS = 10_000_000;
/** Longer keys are hashed, so a caller-supplied key never makes a huge Redis key. */
export const MAX_KEY_LENGTH = 200;
