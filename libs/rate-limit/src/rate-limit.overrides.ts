/* eslint-disable no-restricted-syntax -- this file is the repository of the overrides' hash, and their reload */
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { rerunning } from '@lattice/common';
import {
  REDIS_STARTUP_WAIT_MS,
  RedisService,
  RereadSchedule,
  type RedisClient,
} from '@lattice/redis';
import { MAX_LIMIT, POLICY_NAME } from './rate-limit.constants';
import type { RateLimitSubject } from './rate-limit.types';

/** The hash of every override: field `<policy>|<selector>`, value `{"limit":n}` or `{"factor":x}`. */
export const OVERRIDES_KEY = 'ratelimit:overrides';
/** Announces a change of OVERRIDES_KEY: every instance reads it again. */
const OVERRIDES_CHANNEL = 'ratelimit:overrides';

/** Most selectors' characters: a key, a user id or a role, never a whole document. */
export const MAX_SELECTOR_LENGTH = 256;
/** The largest multiple of a policy's limit an override may give (and 1/MAX_FACTOR the smallest). */
export const MAX_FACTOR = 1000;

/**
 * Who an override is for: `user:<id>` (a signed-in user, whatever the
 * policy's key), `role:<role>` (every signed-in user with that role), or
 * `key:<counted key>` (one counter of the policy, as the limiter names it:
 * `ip:203.0.113.9`, `user:42`, or what a key function returns — an API
 * consumer, a tenant).
 */
export const OVERRIDE_SELECTOR = /^(user|role|key):[^\p{Cc}]+$/u;

/** A policy's limit for some callers, instead of the declared one. */
export interface RateLimitOverride {
  policy: string;
  selector: string;
  /** The limit itself, or ... */
  limit?: number;
  /** ... a multiple of the declared limit (rounded, at least 1). */
  factor?: number;
}

type Rule = Pick<RateLimitOverride, 'limit' | 'factor'>;

/** Throws a TypeError naming what is wrong with `override`. */
export function validateOverride(override: RateLimitOverride): void {
  const { policy, selector, limit, factor } = override;
  if (!POLICY_NAME.test(policy)) {
    throw new TypeError('policy must be 1 to 64 characters of A-Z a-z 0-9 _ . -');
  }
  if (selector.length > MAX_SELECTOR_LENGTH || !OVERRIDE_SELECTOR.test(selector)) {
    throw new TypeError(
      `selector must be user:<id>, role:<role> or key:<counted key>, at most ${MAX_SELECTOR_LENGTH} characters`,
    );
  }
  if ((limit === undefined) === (factor === undefined)) {
    throw new TypeError('an override gives either limit or factor, not both');
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)) {
    throw new TypeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  if (
    factor !== undefined &&
    !(Number.isFinite(factor) && factor >= 1 / MAX_FACTOR && factor <= MAX_FACTOR)
  ) {
    throw new TypeError(`factor must be a number from ${1 / MAX_FACTOR} to ${MAX_FACTOR}`);
  }
}

const apply = (rule: Rule, declared: number): number =>
  rule.limit ?? Math.min(MAX_LIMIT, Math.max(1, Math.round(declared * (rule.factor as number))));

/**
 * Per-identity limits (tiers), kept in Redis and changed at run time: every
 * instance holds the whole table in memory, reads it at start, again on every
 * change (announced over pub/sub by the instance that made it), and again
 * whenever its subscription comes back after a loss. Looking one up costs a
 * Set lookup for a policy with no overrides.
 *
 * Precedence, most specific first: `key:`, then `user:`, then `role:` (the
 * most generous of the caller's roles).
 */
@Injectable()
export class RateLimitOverrides implements OnModuleInit {
  private readonly logger = new Logger('RateLimit');
  private readonly channel: string;
  private rules = new Map<string, Rule>();
  /** Policies with at least one override. */
  private policies = new Set<string>();
  /** Reads the whole table again; one read at a time, and one more if asked meanwhile. */
  private readonly reload = rerunning(() => this.readOnce());
  private readonly reread = new RereadSchedule(
    this.logger,
    'Rate-limit overrides',
    () => void this.reload(),
  );

  constructor(private readonly redis: RedisService) {
    this.channel = redis.channel(OVERRIDES_CHANNEL);
  }

  onModuleInit(): void {
    // Closed with the app's other connections by RedisService.
    const subscriber = this.redis.createSubscriber('rate-limit-overrides');
    subscriber.on('message', () => void this.reload());
    // Subscribed (again, after a loss): what changed meanwhile was missed, so read it all,
    // once the commands connection (which may come back later than this one) is up too.
    const subscribe = () =>
      subscriber.subscribe(this.channel).then(
        () => this.redis.whenReady(REDIS_STARTUP_WAIT_MS).then(() => this.reload()),
        () => undefined,
      );
    subscriber.on('ready', () => void subscribe());
    void subscribe();
  }

  /** The limit of `policy` (declared as `declared`) for this counter and caller. */
  limitFor(policy: string, declared: number, key: string, subject: RateLimitSubject): number {
    if (!this.policies.has(policy)) return declared;
    const byKey = this.rules.get(`${policy}|key:${key}`);
    if (byKey) return apply(byKey, declared);
    const user = subject.user;
    if (!user) return declared;
    const byUser = this.rules.get(`${policy}|user:${user.id}`);
    if (byUser) return apply(byUser, declared);
    let best: number | undefined;
    for (const role of user.roles ?? []) {
      const rule = this.rules.get(`${policy}|role:${role}`);
      if (rule) best = Math.max(best ?? 0, apply(rule, declared));
    }
    return best ?? declared;
  }

  /** Every override, as stored. */
  async list(): Promise<RateLimitOverride[]> {
    const stored = await this.redis.client.hgetall(OVERRIDES_KEY);
    return Object.entries(stored)
      .map(([field, value]) => parse(field, value))
      .filter((override): override is RateLimitOverride => override !== undefined)
      .sort((a, b) => a.policy.localeCompare(b.policy) || a.selector.localeCompare(b.selector));
  }

  /** Sets (or replaces) an override, then tells every instance; throws a TypeError when invalid. */
  async set(override: RateLimitOverride): Promise<void> {
    validateOverride(override);
    const { policy, selector, limit, factor } = override;
    const rule = JSON.stringify(limit !== undefined ? { limit } : { factor });
    await this.change((multi) => multi.hset(OVERRIDES_KEY, `${policy}|${selector}`, rule));
  }

  /** Removes an override; resolves false when there was none. */
  async delete(policy: string, selector: string): Promise<boolean> {
    const [removed] = await this.change((multi) =>
      multi.hdel(OVERRIDES_KEY, `${policy}|${selector}`),
    );
    return removed === 1;
  }

  /** One change and its announcement, atomically; resolves with the change's reply. */
  private async change(
    write: (multi: ReturnType<RedisClient['multi']>) => ReturnType<RedisClient['multi']>,
  ): Promise<unknown[]> {
    const replies = await write(this.redis.client.multi()).publish(this.channel, '1').exec();
    const results: unknown[] = [];
    for (const [error, result] of replies ?? []) {
      if (error) throw error;
      results.push(result);
    }
    // This instance uses it before the answer, whatever its subscriber's pace.
    await this.reload();
    return results;
  }

  private async readOnce(): Promise<void> {
    let overrides: RateLimitOverride[];
    try {
      overrides = await this.list();
    } catch (error) {
      if (this.redis.client.status === 'end') return; // shut down
      // Kept as they were.
      this.reread.failed(error as Error);
      return;
    }
    this.reread.succeeded();
    const rules = new Map<string, Rule>();
    const policies = new Set<string>();
    for (const { policy, selector, limit, factor } of overrides) {
      rules.set(`${policy}|${selector}`, limit !== undefined ? { limit } : { factor });
      policies.add(policy);
    }
    this.rules = rules;
    this.policies = policies;
  }
}

/** An entry of OVERRIDES_KEY, or undefined (logged by nobody: written only through set()). */
function parse(field: string, value: string): RateLimitOverride | undefined {
  const bar = field.indexOf('|');
  if (bar < 0) return undefined;
  try {
    const rule = JSON.parse(value) as Rule;
    const override: RateLimitOverride = {
      policy: field.slice(0, bar),
      selector: field.slice(bar + 1),
      ...(rule.limit !== undefined ? { limit: rule.limit } : { factor: rule.factor }),
    };
    validateOverride(override);
    return override;
  } catch {
    return undefined;
  }
}
