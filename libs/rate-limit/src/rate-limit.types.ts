import type { FastifyRequest } from 'fastify';

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
  /** How many units this request counts as (default 1): admitted only if all fit. */
  cost?: number;
  /** Seconds a refusal blocks the key for, refusing everything (default: no penalty). */
  blockSeconds?: number;
}

/**
 * Who a policy counts. `auto`: the signed-in user (`user:<id>`), else the
 * client address (`ip:<address>`). `ip`: always the client address. `user`:
 * signed-in callers only (the policy does not apply to anonymous ones).
 * `route`: one counter for the whole route, whoever calls. A function returns
 * the key itself, or undefined (or '') for `auto`.
 */
export type RateLimitKey =
  'auto' | 'ip' | 'user' | 'route' | ((request: FastifyRequest) => string | undefined);

/** A named policy, declared once in RateLimitModule.forRoot({ policies }). */
export interface RateLimitPolicy {
  /** Its name in headers, metrics and Redis keys: 1 to 64 of `A-Z a-z 0-9 _ . -`, unique. */
  name: string;
  limit: number;
  /** Seconds. */
  window: number;
  algorithm?: RateLimitAlgorithm;
  /** Who is counted; `auto` by default. */
  key?: RateLimitKey;
  /** Units one request counts as: a number, or a function of the request (default 1). */
  cost?: number | ((request: FastifyRequest) => number);
  /** Counted and reported (metric, log line), never refusing. */
  shadow?: boolean;
  /**
   * The penalty, in seconds: once the policy refuses a key, the key is refused
   * outright (and not counted) for this long, or until the window admits it
   * again if that is later. `Retry-After` says when it ends.
   */
  block?: number;
}

/** A registered policy: validated once, window and block in seconds. */
export interface RegisteredPolicy {
  name: string;
  limit: number;
  windowSeconds: number;
  algorithm: RateLimitPolicy['algorithm'];
  key: NonNullable<RateLimitPolicy['key']>;
  cost: NonNullable<RateLimitPolicy['cost']>;
  shadow: boolean;
  blockSeconds: number | undefined;
}

/**
 * One policy applied to one request by RateLimitService.enforce: its name, or
 * the name with a key or cost that the caller knows better than the policy
 * (the login handler's key, an upload's size). A policy made at run time
 * (RateLimitService.runtimePolicy) is given as `{ policy }`.
 */
export type RateLimitUse =
  string | { policy: string | RegisteredPolicy; key?: string; cost?: number };

/**
 * What enforce() counts: an HTTP request, or for a socket event, the user and
 * address it comes from. `route` names the route for the `route` key.
 */
export interface RateLimitSubject {
  ip?: string;
  /** Its roles, when known, select the `role:` overrides. */
  user?: (Pick<RateLimitedUser, 'id'> & { roles?: readonly string[] }) | null;
  route?: string;
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
  /** A shadow policy's decision: reported, never enforced. */
  shadow?: boolean;
}

/**
 * Where the limiter takes its decisions now (RateLimitService.state; readiness
 * reports it): `redis`, shared by every instance; `memory`, this instance
 * alone, while Redis is unreachable and RATE_LIMIT_FAIL=open; `unavailable`,
 * 503 for limited requests, while it is unreachable and RATE_LIMIT_FAIL=closed.
 */
export type RateLimitState =
  | { mode: 'redis'; failMode: 'open' | 'closed' }
  | {
      mode: 'memory' | 'unavailable';
      failMode: 'open' | 'closed';
      /** When the limiter stopped using Redis (ms since the epoch); its start if it never did. */
      since: number;
    };

/** The signed-in caller, as the session layer sets it on the request before guards run. */
export interface RateLimitedUser {
  id: string;
  login: string;
  roles: string[];
}

/** The limiter of a process: its named policies (beside the environment's) and its tuning. */
export interface RateLimitModuleOptions {
  /**
   * Named policies, beside those of the environment (`ip`, `user`, `login`);
   * a name given twice fails at start.
   */
  policies?: RateLimitPolicy[];
  /** How long a request may wait on Redis before the in-process fallback decides (ms). */
  redisTimeoutMs?: number;
  /** After a Redis failure, how long before a probe may try it again (ms). */
  probeIntervalMs?: number;
  /** Most keys the in-process fallback and the refused-keys cache each hold. */
  maxLocalKeys?: number;
}
