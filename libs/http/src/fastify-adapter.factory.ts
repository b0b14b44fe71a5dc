import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpConfig } from '@lattice/config';
import { requestIdFor } from '@lattice/observability';
import { answerClientError } from './client-error.handler';
import { sendErrorReply } from './error-reply';
import { BODY_LIMIT_BYTES, MAX_PARAM_LENGTH } from './http-limits';

/**
 * Fastify as every app runs it: 1 MiB bodies, safe request ids, proxy trust
 * from the environment, and the contract's error body (with X-Request-Id) for
 * what Fastify refuses before any hook runs: a URL that does not decode, an
 * over-long path parameter (frameworkErrors), and requests Node's HTTP parser
 * refuses (clientErrorHandler). Requests arriving while the server closes are
 * answered by the shutdown hook of createApp, not Fastify's bare 503.
 */
export function createFastifyAdapter(http: Pick<HttpConfig, 'trustProxy'>): FastifyAdapter {
  const logger = new Logger('Errors');
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: http.trustProxy,
    requestIdHeader: false,
    genReqId: (raw: IncomingMessage) => {
      const id = requestIdFor(raw);
      // The request log (RequestLogHook) reads it from the raw request.
      (raw as typeof raw & { id?: string }).id = id;
      return id;
    },
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendErrorReply(reply, request.id, error, logger),
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
  });
}
