import { withRedis } from '@lattice/redis';
import { PresenceUnavailableError } from './presence.errors';

/** Runs a Redis call; a failure of Redis is the platform's 503, as presence says it. */
export function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  return withRedis(work, () => new PresenceUnavailableError());
}
