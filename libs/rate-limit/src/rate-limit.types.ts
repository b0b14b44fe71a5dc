/**
 * `exact`: a sliding log; in no interval of `windowSeconds` are more than
 * `limit` requests admitted. `approximate`: sliding buckets, constant memory
 * per key whatever the limit; never admits more than `limit` either, and may
 * refuse early by at most one bucket (see docs/rate-limit.md).
 */
export type RateLimitAlgorithm = 'exact' | 'approximate';

/** One call to RateLimitService.consume: one unit of `name`'s quota for `key`. */
export interface RateLimitRequest {
  /** The policy: names the counter (with `key`) and the headers. 1 to 64 of `A-Z a-z 0-9 _ . -`. */
  name: string;
  /** Who is counted, e.g. `ip:203.0.113.9`, `user:42`, `203.0.113.9:alice`. */
  key: string;
  limit: number;
  windowSeconds: number;
  algorithm?: RateLimitAlgorithm;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** The policy's name, as in the headers. */
  name: string;
  limit: number;
  /** The policy's window, for `RateLimit-Policy: "name";q=limit;w=windowSeconds`. */
  windowSeconds: number;
  /** Requests still allowed now (0 when refused). */
  remaining: number;
  /** Seconds until the oldest counted request leaves the window and `remaining` grows again. */
  resetSeconds: number;
  /** Seconds to wait before a retry can be admitted; 0 when allowed. */
  retryAfterSeconds: number;
}

/** The signed-in caller, as the session layer sets it on the request before guards run. */
export interface RateLimitedUser {
  id: string;
  login: string;
  roles: string[];
}

/** Tuning of the limiter in a process; the policies themselves come from the environment. */
export interface RateLimitModuleOptions {
  /** How long a request may wait on Redis before the in-process fallback decides (ms). */
  redisTimeoutMs?: number;
  /** After a Redis failure, how long before a probe may try it again (ms). */
  probeIntervalMs?: number;
  /** Most keys the in-process fallback and the refused-keys cache each hold. */
  maxLocalKeys?: number;
}
