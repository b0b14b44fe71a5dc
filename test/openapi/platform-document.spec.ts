import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger, type DynamicModule, type Type } from '@nestjs/common';
import {
  GUARDS_METADATA,
  PARAMTYPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';
import { ZodObject, type z } from 'zod';
import { PUBLIC_ROUTE } from '@lattice/common';
import { loadConfig } from '@lattice/config';
import { toOpenApiSchema } from '@lattice/api';
import {
  API_VERSION,
  buildAppDocument,
  controllersOf,
  routesOf,
  type ApiDocumentInfo,
  type RouteEntry,
} from '@lattice/http';
import { AuthModule } from '../../apps/auth/src/auth.module';
import { AUTH_CONTROLLERS, AUTH_DOCUMENT } from '../../apps/auth/src/auth.openapi';
import { GATEWAY_DOCUMENT } from '../../apps/gateway/src/docs/gateway-document';
import { FORWARDED_APPS, mergeDocuments } from '../../apps/gateway/src/docs/platform-document';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { RealtimeModule } from '../../apps/realtime/src/realtime.module';
import { REALTIME_CONTROLLERS, REALTIME_DOCUMENT } from '../../apps/realtime/src/realtime.openapi';

type Operation = OperationObject & { path: string; method: string };

/** The zod schema of a route argument typed with a ZodDto class, by kind of argument. */
function zodArguments(route: RouteEntry): { kind: RouteParamtypes; schema?: z.ZodType }[] {
  const types = (Reflect.getMetadata(
    PARAMTYPES_METADATA,
    route.controller.prototype,
    route.handler,
  ) ?? []) as unknown[];
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, route.controller, route.handler) ??
    {}) as Record<string, { index: number; data?: unknown }>;
  return Object.entries(args)
    .map(([key, arg]) => ({
      kind: Number(key.split(':')[0]) as RouteParamtypes,
      schema: (types[arg.index] as { schema?: z.ZodType } | undefined)?.schema,
      whole: arg.data === undefined,
    }))
    .filter((arg) =>
      [RouteParamtypes.BODY, RouteParamtypes.PARAM, RouteParamtypes.QUERY].includes(arg.kind),
    )
    .filter((arg) => arg.whole);
}

/** `z.strictObject(...)`: an object whose unknown keys are refused. */
const isStrictObject = (schema: z.ZodType): schema is z.ZodObject =>
  schema instanceof ZodObject && schema.def.catchall?._zod.def.type === 'never';

const isPublic = (route: RouteEntry): boolean =>
  Reflect.getMetadata(PUBLIC_ROUTE, route.controller.prototype[route.handler] as object) === true ||
  Reflect.getMetadata(PUBLIC_ROUTE, route.controller) === true;

const hasOwnGuard = (route: RouteEntry): boolean =>
  [route.controller, route.controller.prototype[route.handler] as object].some(
    (target) => ((Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as unknown[]).length > 0,
  );

/** An app's own document as the gateway receives it from that app's GET /docs/json. */
async function servedBy(
  app: 'auth' | 'realtime',
  module: DynamicModule,
  info: ApiDocumentInfo,
): Promise<OpenAPIObject> {
  return JSON.parse(
    JSON.stringify(buildAppDocument(app, info, await controllersOf(module))),
  ) as OpenAPIObject;
}

describe('the OpenAPI document of the gateway, merged from the three apps', () => {
  let document: OpenAPIObject;
  let routes: RouteEntry[];
  let operations: Map<string, Operation>;

  const resolve = (schema: SchemaObject | ReferenceObject | undefined): SchemaObject => {
    if (schema && '$ref' in schema) {
      return document.components!.schemas![schema.$ref.split('/').pop()!] as SchemaObject;
    }
    return schema as SchemaObject;
  };
  const operationOf = (route: RouteEntry): Operation => {
    const operation = operations.get(`${route.method} ${route.path}`);
    if (!operation) throw new Error(`${route.method} ${route.path} is not documented`);
    return operation;
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    // What the three apps register, from their own module metadata (the auth and
    // realtime lists are checked against their modules in those apps' specs).
    const gateway = await controllersOf(GatewayModule.forRoot(loadConfig('gateway', {})));
    routes = routesOf([...gateway, ...AUTH_CONTROLLERS, ...REALTIME_CONTROLLERS] as Type[]);
    // Each app's own document, built as that app builds it, merged as the gateway merges them.
    const served = {
      auth: await servedBy('auth', AuthModule.forRoot(loadConfig('auth', {})), AUTH_DOCUMENT),
      realtime: await servedBy(
        'realtime',
        RealtimeModule.forRoot(loadConfig('realtime', {})),
        REALTIME_DOCUMENT,
      ),
    };
    document = mergeDocuments(
      buildAppDocument('gateway', GATEWAY_DOCUMENT, gateway),
      FORWARDED_APPS.map((upstream) => ({ ...upstream, document: served[upstream.app] })),
    );
    operations = new Map();
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        operations.set(`${method} ${path}`, { ...(operation as OperationObject), path, method });
      }
    }
  });

  it('describes every route the apps register, with its method, and nothing else', () => {
    const registered = routes.map((route) => `${route.method} ${route.path}`).sort();
    expect([...operations.keys()].sort()).toEqual(registered);
    expect(registered).toEqual(
      expect.arrayContaining([
        'get /api/ping',
        'post /api/cache/events',
        'get /api/presence/{channel}',
        'post /auth/login',
        'delete /auth/sessions/{id}',
        'post /auth/verifications/{network}/{address}/{type}/confirm',
        'get /realtime/presence/{channel}',
        'get /health/ready',
        'get /metrics',
        'get /docs/json',
        'get /docs',
      ]),
    );
  });

  it('gives every operation a summary, a described tag, a unique id and a successful answer', () => {
    const ids = new Set<string>();
    const tags = (document.tags ?? []).map((tag) => tag.name);
    for (const [key, operation] of operations) {
      expect({ key, summary: operation.summary }).toEqual({ key, summary: expect.any(String) });
      expect({ key, tags: operation.tags }).toEqual({ key, tags: [expect.any(String)] });
      expect({ key, described: tags.includes(operation.tags![0]!) }).toEqual({
        key,
        described: true,
      });
      expect({ key, duplicate: ids.has(operation.operationId!) }).toEqual({
        key,
        duplicate: false,
      });
      ids.add(operation.operationId!);
      const success = Object.keys(operation.responses).filter((status) => /^2\d\d$/.test(status));
      expect({ key, success: success.length }).toEqual({ key, success: 1 });
    }
  });

  it('declares every path parameter, with a schema', () => {
    for (const [key, operation] of operations) {
      const names = [...operation.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const declared = ((operation.parameters ?? []) as ParameterObject[]).filter(
        (parameter) => parameter.in === 'path',
      );
      expect({ key, path: declared.map((p) => p.name).sort() }).toEqual({
        key,
        path: [...names].sort(),
      });
      for (const parameter of declared) {
        expect({ key, parameter }).toEqual({
          key,
          parameter: expect.objectContaining({ required: true, schema: expect.any(Object) }),
        });
      }
    }
  });

  it('documents each ZodDto body with its zod schema: strict objects closed, their fields required', () => {
    let strictBodies = 0;
    for (const route of routes) {
      const body = zodArguments(route).find((arg) => arg.kind === RouteParamtypes.BODY);
      if (!body) continue;
      const key = `${route.method} ${route.path}`;
      const requestBody = operationOf(route).requestBody as RequestBodyObject | undefined;
      const documented = resolve(requestBody?.content['application/json']?.schema);
      expect({ key, documented: Object.keys(documented ?? {}).length > 0 }).toEqual({
        key,
        documented: true,
      });
      if (!body.schema) continue; // validated by the route itself (cache-sync): any schema will do
      expect({ key, documented }).toEqual({
        key,
        documented: toOpenApiSchema(body.schema, 'input'),
      });
      expect({ key, required: requestBody!.required }).toEqual({
        key,
        required: !body.schema.safeParse(undefined).success,
      });
      if (isStrictObject(body.schema)) {
        strictBodies += 1;
        const mandatory = Object.entries(body.schema.shape)
          .filter(([, field]) => !field.safeParse(undefined).success)
          .map(([name]) => name);
        expect({ key, additionalProperties: documented.additionalProperties }).toEqual({
          key,
          additionalProperties: false,
        });
        expect({ key, required: [...(documented.required ?? [])].sort() }).toEqual({
          key,
          required: mandatory.sort(),
        });
      }
    }
    expect(strictBodies).toBeGreaterThanOrEqual(4);
  });

  it('documents each ZodDto path and query argument property by property', () => {
    for (const route of routes) {
      for (const arg of zodArguments(route)) {
        if (arg.kind === RouteParamtypes.BODY || !arg.schema) continue;
        const where = arg.kind === RouteParamtypes.PARAM ? 'path' : 'query';
        const json = toOpenApiSchema(arg.schema, 'input');
        const parameters = (operationOf(route).parameters ?? []) as ParameterObject[];
        for (const [name, schema] of Object.entries(json.properties ?? {})) {
          expect(parameters).toContainEqual(
            expect.objectContaining({
              name,
              in: where,
              required: (json.required ?? []).includes(name),
              schema,
            }),
          );
        }
      }
    }
  });

  it('asks for the sid cookie or a bearer token exactly where a route needs a session', () => {
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const operation = operationOf(route);
      const security = operation.security ?? [];
      if (!isPublic(route)) {
        expect({ key, security }).toEqual({ key, security: [{ sid: [] }, { bearer: [] }] });
        expect({ key, has401: '401' in operation.responses }).toEqual({ key, has401: true });
      } else if (!hasOwnGuard(route) && security.length > 0) {
        // Public, but answering signed-in callers differently: the session is optional.
        expect({ key, security }).toEqual({ key, security: expect.arrayContaining([{}]) });
      }
    }
  });

  it('gives every error answer the contract error body', () => {
    let errors = 0;
    for (const [key, operation] of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        errors += 1;
        const content = (response as ResponseObject).content ?? {};
        expect({ key, status, types: Object.keys(content) }).toEqual({
          key,
          status,
          types: ['application/json'],
        });
        expect({ key, status, schema: content['application/json']!.schema }).toEqual({
          key,
          status,
          schema: { $ref: '#/components/schemas/ErrorBody' },
        });
      }
    }
    expect(errors).toBeGreaterThan(50);
  });

  it('refers only to schemas it defines', () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(document.components!.schemas).toHaveProperty([ref.split('/').pop()!]);
    }
  });

  it('is an OpenAPI 3.0 document versioned like the package', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(document.openapi).toMatch(/^3\.0\.\d+$/);
    expect(document.info).toMatchObject({ title: 'Lattice API', version: pkg.version });
    expect(API_VERSION).toBe(pkg.version);
  });
});
