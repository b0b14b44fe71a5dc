import type { RateLimitConfig } from '@lattice/config';
import { MAX_LIMIT } from './rate-limit.constants';
import { validatePolicy } from './rate-limit.policy';
import type { RateLimitPolicy, RegisteredPolicy } from './rate-limit.types';

/** Throws a TypeError for a cost no limiter can count: an integer from 1 to MAX_LIMIT. */
export function validateCost(name: string, cost: number): void {
  if (!Number.isInteger(cost) || cost < 1 || cost > MAX_LIMIT) {
    throw new TypeError(`rate limit "${name}": cost must be an integer from 1 to ${MAX_LIMIT}`);
  }
}

/** A policy as the registry keeps it, validated; throws a TypeError when it is not valid. */
export function registeredPolicy(policy: RateLimitPolicy): RegisteredPolicy {
  validatePolicy({
    name: policy.name,
    limit: policy.limit,
    windowSeconds: policy.window,
    algorithm: policy.algorithm,
    blockSeconds: policy.block,
  });
  const cost = policy.cost ?? 1;
  if (typeof cost === 'number') validateCost(policy.name, cost);
  return {
    name: policy.name,
    limit: policy.limit,
    windowSeconds: policy.window,
    algorithm: policy.algorithm,
    key: policy.key ?? 'auto',
    cost,
    shadow: policy.shadow === true,
    blockSeconds: policy.block,
  };
}

/**
 * Every named policy of the process, declared once at start: the
 * environment's (`ip` from RATE_LIMIT_IP, `user` from RATE_LIMIT_USER, `login`
 * from RATE_LIMIT_LOGIN) and those given to RateLimitModule.forRoot. A name
 * given twice, or an invalid policy, fails the start; so does a route that
 * names a policy not declared here (RateLimitGuard checks them at start).
 */
export class RateLimitRegistry {
  private readonly policies = new Map<string, RegisteredPolicy>();

  constructor(environment: RateLimitConfig, policies: readonly RateLimitPolicy[] = []) {
    const fromEnvironment: RateLimitPolicy[] = [
      { name: 'ip', key: 'ip', limit: environment.ip.limit, window: environment.ip.windowSeconds },
      {
        name: 'user',
        key: 'user',
        limit: environment.user.limit,
        window: environment.user.windowSeconds,
      },
      // Its key, (address, login), is given by the login handler.
      {
        name: 'login',
        key: 'ip',
        limit: environment.login.limit,
        window: environment.login.windowSeconds,
      },
    ];
    for (const policy of [...fromEnvironment, ...policies]) {
      if (this.policies.has(policy.name)) {
        throw new Error(
          `rate limit policy "${policy.name}" is declared twice: each name must be declared once (ip, user and login come from the environment)`,
        );
      }
      this.policies.set(policy.name, registeredPolicy(policy));
    }
  }

  /** The policy named `name`; throws when none is declared (a programming error). */
  get(name: string): RegisteredPolicy {
    const policy = this.policies.get(name);
    if (!policy) {
      throw new TypeError(
        `rate limit policy "${name}" is not declared; declare it in RateLimitModule.forRoot({ policies })`,
      );
    }
    return policy;
  }

  has(name: string): boolean {
    return this.policies.has(name);
  }

  names(): string[] {
    return [...this.policies.keys()];
  }
}
