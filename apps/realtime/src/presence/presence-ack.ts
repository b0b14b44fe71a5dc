import type { Logger } from '@nestjs/common';
import type { z } from 'zod';
import { LatticeError, ValidationFailedError } from '@lattice/common';
import { issuesSummary, zodIssues } from '@lattice/api';
import { RateLimitedError } from '@lattice/rate-limit';
import type { Ack } from './presence-events';
import type { RealtimeConnection } from './realtime.connection';
import { RealtimeUnavailableError } from './realtime.errors';

/** Parses an event's payload; VALIDATION_FAILED naming every problem otherwise. */
export function parsePayload<T extends z.ZodType>(schema: T, payload: unknown): z.infer<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const details = zodIssues(result.error);
  throw new ValidationFailedError(`Invalid payload: ${issuesSummary(details)}`, details);
}

/** The acknowledgement for a failure: the error's stable code, never internals. */
export function errorAck(error: unknown, logger: Pick<Logger, 'error'>): Ack {
  if (error instanceof LatticeError) {
    const ack: Ack = { ok: false, code: error.code, message: error.message };
    if (error.details !== undefined) ack.details = error.details;
    if (error instanceof RateLimitedError) {
      ack.retryAfterSeconds = error.decision.retryAfterSeconds;
    }
    return ack;
  }
  logger.error({ err: error }, 'Unhandled error in a socket event');
  return { ok: false, code: 'INTERNAL', message: 'Something went wrong on our side' };
}

/** Runs a socket event's work for its connection: every failure is answered, never thrown. */
export async function answer(
  connection: RealtimeConnection | undefined,
  logger: Pick<Logger, 'error'>,
  work: (connection: RealtimeConnection) => Promise<Ack>,
): Promise<Ack> {
  try {
    if (!connection) throw new RealtimeUnavailableError('This connection is closing');
    return await work(connection);
  } catch (error) {
    return errorAck(error, logger);
  }
}
