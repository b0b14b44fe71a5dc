import { SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { validatePolicy } from './rate-limit.policy';
import type { RateLimitAlgorithm } from './rate-limit.types';

export const RATE_LIMIT_POLICY = 'lattice:rate-limit:policy';
export const RATE_LIMIT_SKIP = 'lattice:rate-limit:skip';

/**
 * Who a decorated route counts. `auto` (the default): the signed-in user
 * (`user:<id>`), else the client address (`ip:<address>`). `ip`: always the
 * client address. A function returns the key itself, or undefined (or '') for `auto`.
 */
export type RateLimitKey = 'auto' | 'ip' | ((request: FastifyRequest) => string | undefined);

export interface RateLimitOptions {
  limit: number;
  /** Seconds. */
  window: number;
  key?: RateLimitKey;
  /**
   * The policy's name in headers and Redis keys. Routes sharing a name share
   * one counter; without one, each route has its own (`<controller>.<method>`).
   */
  name?: string;
  algorithm?: RateLimitAlgorithm;
}

/**
 * Replaces the default policy (RATE_LIMIT_IP / RATE_LIMIT_USER) of a route, or
 * of every route of a controller. A method's decorator wins over its class's.
 */
export function RateLimit(options: RateLimitOptions): ClassDecorator & MethodDecorator {
  validatePolicy({
    name: options.name ?? 'route',
    limit: options.limit,
    windowSeconds: options.window,
    algorithm: options.algorithm,
  });
  return SetMetadata(RATE_LIMIT_POLICY, options);
}

/** Leaves a route, or every route of a controller, unlimited (health, metrics). */
export function SkipRateLimit(): ClassDecorator & MethodDecorator {
  return SetMetadata(RATE_LIMIT_SKIP, true);
}
