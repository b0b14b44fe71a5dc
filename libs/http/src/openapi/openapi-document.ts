import type { INestApplication, Type } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { BEARER_SCHEME, SESSION_COOKIE_SCHEME } from '@lattice/api';

/** The version of every app's document: bump with package.json's (a unit test compares them). */
export const API_VERSION = '0.1.0';

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
 * What @nestjs/swagger's scanner reads of an application — its modules'
 * controllers, the application config (global prefix, versioning) and the
 * HTTP adapter's type — made from the controller classes alone. The scanner
 * reads metadata from each controller's prototype and never calls it, so no
 * Nest application (not even a preview one) is created, no provider is
 * needed and nothing is instantiated.
 */
function controllersOnlyApplication(controllers: readonly Type[]): INestApplication {
  const wrappers = new Map(
    [...new Set(controllers)].map((metatype) => [
      metatype,
      { metatype, instance: Object.create(metatype.prototype) as object },
    ]),
  );
  class OpenApiDocumentationModule {}
  const modules = new Map([
    [
      'documentation',
      { metatype: OpenApiDocumentationModule, controllers: wrappers, imports: new Set() },
    ],
  ]);
  return {
    container: { getModules: () => modules, isGlobalModule: () => false },
    config: new ApplicationConfig(),
    getHttpAdapter: () => ({ getType: () => 'fastify' }),
  } as unknown as INestApplication;
}

/**
 * Builds an OpenAPI 3 document from controllers' own metadata (routes,
 * ZodDto parameters, @Api* decorators) with @nestjs/swagger's scanner;
 * nothing is instantiated, no dependency is needed, nothing listens.
 * Operation ids are `<Controller>_<handler>` unless a route's @ApiOperation
 * names its own.
 */
export function buildOpenApiDocument(options: OpenApiDocumentOptions): OpenAPIObject {
  const app = controllersOnlyApplication(options.controllers);
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
}

/** What an app says about its own document; the tags of the routes every app has are added. */
export interface ApiDocumentInfo {
  title: string;
  /** Markdown shown above the routes. */
  description: string;
  /** The tags of the app's own controllers, each with a line saying what it groups. */
  tags: { name: string; description: string }[];
}

/** One app's own document, from the controllers it registers, as ApiDocument builds it at start-up. */
export function buildAppDocument(
  app: string,
  info: ApiDocumentInfo,
  controllers: readonly Type[],
): OpenAPIObject {
  return buildOpenApiDocument({
    title: info.title,
    version: API_VERSION,
    description: info.description,
    controllers,
    tags: [
      ...info.tags,
      // The routes every app has (DocsModule, libs/health, libs/observability).
      { name: 'docs', description: `This document and its page (${app})` },
      { name: 'health', description: `Liveness and readiness of the ${app} instance` },
      { name: 'metrics', description: `Prometheus metrics of the ${app} instance` },
    ],
  });
}
