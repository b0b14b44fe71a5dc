import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { requestContext } from './request-context';
import { pathOf } from './request-id';

/** Probes and scrapes, which would drown the requests worth reading. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * One log line per answered request, written from Fastify's `onResponse` hook
 * through the application's root pino logger: `req` (id, method, path), `res`
 * (status), `responseTime` (ms), at `error` for 5xx, `warn` for 4xx, `info`
 * otherwise; and, for every other line written while the request runs, its
 * id (request-context.ts). pino-http's middleware did the same at several times the cost
 * (a child logger and response listeners for every request, through Nest's
 * middleware layer), whether or not the line was written.
 */
@Injectable()
export class RequestLogHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance() as FastifyInstance | undefined;
    if (!fastify?.addHook) return;
    // Outside any request context, PinoLogger's logger is the root one.
    const root = this.logger.logger;
    // Everything that runs for the request from here on (guards, handlers, Redis
    // callbacks) logs with its id: the hooks and handler continue inside run().
    fastify.addHook('onRequest', (request, _reply, done) => {
      requestContext.run({ requestId: request.id }, done);
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      const status = reply.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (root.isLevelEnabled(level) && !QUIET_PATHS.has(pathOf(request.url))) {
        // The raw objects, as pino-http logged them: the serializers (logger.options.ts) pick the fields.
        root[level](
          { req: request.raw, res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
          status >= 500 ? 'request errored' : 'request completed',
        );
      }
      done();
    });
  }
}
