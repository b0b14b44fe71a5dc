import { Logger } from '@nestjs/common';
import { LatticeError, UnavailableError } from '@lattice/common';
import { isRedisUnavailableError } from './redis-errors';

const logger = new Logger('Redis');

/**
 * The platform's one answer to a failure of Redis: runs `work`, and turns
 * anything Redis threw into the 503 that `unavailable` makes (a generic
 * UNAVAILABLE by default), never Redis's own text. Each failure is logged
 * once: a Redis that cannot be reached by the connection that lost it (one
 * line per outage, not one per call), an error Redis answered with (a script
 * or command it refused: a defect) here, at `error` with its stack, where the
 * line carries the request's id and trace id. A LatticeError thrown by the
 * work itself passes unchanged.
 */
export async function withRedis<T>(
  work: () => Promise<T>,
  unavailable: () => LatticeError = () => new UnavailableError(),
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LatticeError) throw error;
    if (!isRedisUnavailableError(error)) logger.error({ err: error }, 'Redis refused a command');
    throw unavailable();
  }
}
