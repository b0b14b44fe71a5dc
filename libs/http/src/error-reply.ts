import type { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LatticeError } from '@lattice/common';
import { toErrorBody } from './error-body';

/**
 * Answers with the contract's error body for anything thrown, from the
 * exception filter or from code that runs before Nest does (Fastify's router
 * errors, the shutdown check). Unexpected errors are logged with their stack.
 */
export function sendErrorReply(
  reply: FastifyReply,
  requestId: string,
  exception: unknown,
  logger: Pick<Logger, 'error'>,
): void {
  const { body, internal } = toErrorBody(exception, requestId);
  if (internal) {
    logger.error({ requestId, err: exception }, 'Unhandled error');
  }
  if (reply.sent) return;
  reply.header('X-Request-Id', requestId);
  if (body.statusCode === 503 || body.statusCode === 429) reply.header('Cache-Control', 'no-store');
  // The error's own headers: every 429 carries RateLimit and Retry-After, whoever threw it.
  if (exception instanceof LatticeError) exception.writeHeaders(reply);
  void reply.status(body.statusCode).type('application/json; charset=utf-8').send(body);
}
