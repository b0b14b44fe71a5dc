import type { FastifyRequest } from 'fastify';
import { clientIpKey } from './client-ip';
import type { RateLimitKey, RateLimitSubject } from './rate-limit.types';

/**
 * Who a policy counts for one request (see RateLimitKey); undefined when the
 * policy does not apply to it (`user` for an anonymous caller).
 */
export function policyKey(key: RateLimitKey, subject: RateLimitSubject): string | undefined {
  const user = subject.user;
  if (key === 'auto') return user ? `user:${user.id}` : `ip:${clientIpKey(subject.ip)}`;
  if (key === 'ip') return `ip:${clientIpKey(subject.ip)}`;
  if (key === 'user') return user ? `user:${user.id}` : undefined;
  if (key === 'route') return `route:${subject.route ?? ''}`;
  // An empty key would lump callers together: it means `auto` like undefined.
  return (
    key(subject as FastifyRequest) || (user ? `user:${user.id}` : `ip:${clientIpKey(subject.ip)}`)
  );
}
