import { PresenceUnavailableError } from './presence.errors';

/** Runs a Redis call, turning any failure of Redis into UNAVAILABLE (never a Redis error text). */
export async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch {
    throw new PresenceUnavailableError();
  }
}
