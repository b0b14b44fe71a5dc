import { Logger, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { UnavailableError } from '@lattice/common';
import type { Config } from '@lattice/config';
import { ShutdownState } from '@lattice/health';
import { QuietStartupLogger } from '@lattice/observability';
import { sendErrorReply } from './error-reply';
import { createFastifyAdapter } from './fastify-adapter.factory';
import { BODY_LIMIT_BYTES } from './http-limits';
import { depthBoundedJsonParser } from './json-body.parser';

/** Builds an app (not yet listening) from its root module, as main.ts and the tests do. */
export async function createApp(
  config: Config,
  rootModule: DynamicModule,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    rootModule,
    createFastifyAdapter(config.http),
    {
      bufferLogs: true,
      abortOnError: false,
    },
  );
  app.useLogger(app.get(QuietStartupLogger));
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  app.useBodyParser(
    'application/json',
    { bodyLimit: BODY_LIMIT_BYTES },
    depthBoundedJsonParser(fastify),
  );
  // Once the server closes, a request that still arrives (on a keep-alive
  // connection that was busy) is refused with the contract's 503 rather than
  // Fastify's own body; requests already running finish.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const logger = new Logger('Errors');
  // One hook for both, as every request runs each hook Fastify has.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    if (!closing) return done();
    reply.header('Connection', 'close');
    sendErrorReply(
      reply,
      request.id,
      new UnavailableError('The server is shutting down; try again'),
      logger,
    );
  });
  // A keep-alive connection left open after a response would hold the server's close
  // for the whole keep-alive timeout: once shutting down, every response ends its connection.
  const shutdown = app.get(ShutdownState);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.isShuttingDown) reply.header('Connection', 'close');
    done(null, payload);
  });
  return app;
}
