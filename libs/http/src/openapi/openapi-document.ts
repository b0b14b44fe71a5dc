import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { BEARER_SCHEME, SESSION_COOKIE_SCHEME } from './api-session.decorator';
import { documentationModule } from './documentation.module';

export interface OpenApiDocumentOptions {
  title: string;
  version: string;
  /** Markdown shown above the routes. */
  description: string;
  /** Every controller to describe, whichever app registers it; their paths are used as they are. */
  controllers: readonly Type[];
  tags?: { name: string; description: string }[];
}

/**
 * Builds an OpenAPI 3 document from controllers' own metadata (routes,
 * ZodDto parameters, @Api* decorators), with @nestjs/swagger's scanner over a
 * documentation-only module created in preview mode: nothing is instantiated,
 * no dependency is needed, nothing listens. Operation ids are
 * `<Controller>_<handler>` unless a route's @ApiOperation names its own.
 */
export async function buildOpenApiDocument(
  options: OpenApiDocumentOptions,
): Promise<OpenAPIObject> {
  const app = await NestFactory.create(
    documentationModule(options.controllers),
    new FastifyAdapter(),
    {
      preview: true,
      // Errors are thrown to the caller rather than ending the process.
      abortOnError: false,
    },
  );
  try {
    const builder = new DocumentBuilder()
      .setOpenAPIVersion('3.0.3')
      .setTitle(options.title)
      .setVersion(options.version)
      .setDescription(options.description)
      .addCookieAuth(
        SESSION_COOKIE_SCHEME,
        {
          type: 'apiKey',
          in: 'cookie',
          name: 'sid',
          description: 'The session token, as set by POST /auth/login',
        },
        SESSION_COOKIE_SCHEME,
      )
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          description:
            'The session token returned by POST /auth/login (or, for POST /api/cache/events, CACHE_SYNC_TOKEN)',
        },
        BEARER_SCHEME,
      );
    for (const tag of options.tags ?? []) builder.addTag(tag.name, tag.description);
    return SwaggerModule.createDocument(app, builder.build(), {
      operationIdFactory: (controller, handler) =>
        `${controller.replace(/Controller$/, '')}_${handler}`,
    });
  } finally {
    await app.close();
  }
}
