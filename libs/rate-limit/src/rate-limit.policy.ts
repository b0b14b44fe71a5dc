import { createHash } from 'node:crypto';
import { MAX_KEY_LENGTH, MAX_LIMIT, MAX_WINDOW_SECONDS, POLICY_NAME } from './rate-limit.constants';
import type { RateLimitAlgorithm, RateLimitRequest } from './rate-limit.types';

/** Throws a TypeError for a policy no limiter can honour: a programming error, found early. */
export function validatePolicy(policy: {
  name: string;
  limit: number;
  windowSeconds: number;
  algorithm?: RateLimitAlgorithm;
  blockSeconds?: number;
}): void {
  if (!POLICY_NAME.test(policy.name)) {
    throw new TypeError(
      `rate limit name "${policy.name}" must be 1 to 64 characters of A-Z a-z 0-9 _ . -`,
    );
  }
  if (!Number.isInteger(policy.limit) || policy.limit < 1 || policy.limit > MAX_LIMIT) {
    throw new TypeError(
      `rate limit "${policy.name}": limit must be an integer from 1 to ${MAX_LIMIT}`,
    );
  }
  if (
    !Number.isInteger(policy.windowSeconds) ||
    policy.windowSeconds < 1 ||
    policy.windowSeconds > MAX_WINDOW_SECONDS
  ) {
    throw new TypeError(
      `rate limit "${policy.name}": window must be an integer number of seconds from 1 to ${MAX_WINDOW_SECONDS}`,
    );
  }
  if (
    policy.algorithm !== undefined &&
    policy.algorithm !== 'exact' &&
    policy.algorithm !== 'approximate'
  ) {
    throw new TypeError(`rate limit "${policy.name}": algorithm must be "exact" or "approximate"`);
  }
  if (
    policy.blockSeconds !== undefined &&
    (!Number.isInteger(policy.blockSeconds) ||
      policy.blockSeconds < 1 ||
      policy.blockSeconds > MAX_WINDOW_SECONDS)
  ) {
    throw new TypeError(
      `rate limit "${policy.name}": block must be an integer number of seconds from 1 to ${MAX_WINDOW_SECONDS}`,
    );
  }
}

/** Policies remembered by ValidatedPolicies; past this many names it starts afresh. */
const MAX_REMEMBERED_POLICIES = 1000;

/**
 * validatePolicy for a hot path: a policy already found valid (same name,
 * limit, window and algorithm) is not checked again.
 */
export class ValidatedPolicies {
  /** By policy name: the values it was found valid with. */
  private readonly valid = new Map<
    string,
    Pick<RateLimitRequest, 'limit' | 'windowSeconds' | 'algorithm' | 'blockSeconds'>
  >();

  check(policy: RateLimitRequest): void {
    const known = this.valid.get(policy.name);
    if (
      known !== undefined &&
      known.limit === policy.limit &&
      known.windowSeconds === policy.windowSeconds &&
      known.algorithm === policy.algorithm &&
      known.blockSeconds === policy.blockSeconds
    ) {
      return;
    }
    validatePolicy(policy);
    if (this.valid.size >= MAX_REMEMBERED_POLICIES) this.valid.clear();
    const { limit, windowSeconds, algorithm, blockSeconds } = policy;
    this.valid.set(policy.name, { limit, windowSeconds, algorithm, blockSeconds });
  }
}

/**
 * The Redis key (before KEY_PREFIX) of one counter. The algorithm is part of
 * it, so switching a policy's algorithm never meets a key of the other type.
 */
export function counterKey(request: RateLimitRequest): string {
  const kind = request.algorithm === 'approximate' ? 'buckets' : 'log';
  // A penalised counter and its block key are changed by one script: in a Cluster they share a slot.
  if (request.blockSeconds) return `ratelimit:${kind}:{${request.name}:${shortKey(request.key)}}`;
  return `ratelimit:${kind}:${request.name}:${shortKey(request.key)}`;
}

/** The Redis key (before KEY_PREFIX) that blocks `key` for a penalised policy. */
export function blockKey(request: RateLimitRequest): string {
  return `ratelimit:block:{${request.name}:${shortKey(request.key)}}`;
}

function shortKey(key: string): string {
  return key.length > MAX_KEY_LENGTH
    ? `sha256:${createHash('sha256').update(key).digest('hex')}`
    : key;
}
