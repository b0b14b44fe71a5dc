import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError, writeRateLimitHeaders } from '@lattice/rate-limit';
import { toErrorBody } from './error-body';

/** One place that turns any thrown error into the contract's error body. */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendError(reply, request.id, exception, this.logger);
  }
}

function sendError(
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
  if (body.statusCode === 503 || body.statusCode === 429) reply.header('Cache-Control', 'no-store');
  // Every 429 carries RateLimit and Retry-After, whoever threw it (guard, login handler, proxy).
  if (exception instanceof RateLimitedError) writeRateLimitHeaders(reply, exception.decision);
  void reply.status(body.statusCode).type('application/json; charset=utf-8').send(body);
}
