import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { Config } from '@lattice/config';
import { ShutdownState } from '@lattice/health';
import { QuietStartupLogger } from '@lattice/observability';
import { createFastifyAdapter } from './fastify-adapter.factory';

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
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
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
