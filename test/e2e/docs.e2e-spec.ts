import type { Type } from '@nestjs/common';
import { loadConfig } from '@lattice/config';
import { controllersOf, routesOf } from '@lattice/http';
import { AppProcess, freePort, startTestRedis, type TestRedis } from '@lattice/testing';
import { AUTH_CONTROLLERS } from '../../apps/auth/src/auth.openapi';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { REALTIME_CONTROLLERS } from '../../apps/realtime/src/realtime.openapi';

interface Document {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas: Record<string, unknown> };
}

describe('the OpenAPI document and its page, served by the gateway', () => {
  let redis: TestRedis;
  let auth: AppProcess;
  let realtime: AppProcess;
  let gateway: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    [auth, realtime] = await Promise.all([
      AppProcess.start('auth', redis.env),
      AppProcess.start('realtime', redis.env),
    ]);
    gateway = await AppProcess.start('gateway', {
      ...redis.env,
      AUTH_URL: auth.url(''),
      REALTIME_URL: realtime.url(''),
    });
  });

  afterAll(async () => {
    await Promise.all([gateway?.kill(), auth?.kill(), realtime?.kill()]);
    await redis?.dispose();
  });

  it('serves the OpenAPI 3 document at /docs/json to anyone, rate-limited like any route', async () => {
    const res = await fetch(gateway.url('/docs/json'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.headers.get('ratelimit-policy')).toMatch(/^"ip";q=\d+;w=\d+/);
    const document = (await res.json()) as Document;
    expect(document.openapi).toMatch(/^3\.0\.\d+$/);
    expect(document.info.title).toBe('Lattice API');
  });

  it('describes every route of the gateway, auth and realtime apps, as the running gateway found them', async () => {
    const document = (await (await fetch(gateway.url('/docs/json'))).json()) as Document;
    const gatewayControllers = await controllersOf(
      GatewayModule.forRoot(loadConfig('gateway', {})),
    );
    const routes = routesOf([
      ...gatewayControllers,
      ...AUTH_CONTROLLERS,
      ...REALTIME_CONTROLLERS,
    ] as Type[]).map((route) => `${route.method} ${route.path}`);
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(routes.sort());
    expect(documented).toEqual(expect.arrayContaining(['post /auth/login', 'get /api/ping']));
  });

  it("describes the account routes' bodies and error answers (CONTRACT 8.2)", async () => {
    const document = (await (await fetch(gateway.url('/docs/json'))).json()) as Document;
    const expected: [string, string, string[], string[]][] = [
      ['/auth/password', 'post', ['currentPassword', 'newPassword'], ['204', '400', '401', '429']],
      ['/auth/me', 'patch', ['name'], ['200', '400', '401', '429']],
      ['/auth/me', 'delete', ['code', 'password'], ['204', '400', '401', '429']],
      ['/auth/mfa/totp/confirm', 'post', ['code'], ['200', '400', '401', '404', '409', '429']],
      ['/auth/mfa/totp', 'delete', ['code', 'password'], ['204', '400', '401', '404', '429']],
      ['/auth/login/mfa', 'post', ['challenge', 'code'], ['200', '400', '401', '429']],
    ];
    for (const [path, method, fields, statuses] of expected) {
      const operation = document.paths[path]![method] as {
        requestBody: { content: Record<string, { schema: { properties: object } }> };
        responses: Record<string, unknown>;
      };
      let body = operation.requestBody.content['application/json']!.schema as {
        properties: object;
        $ref?: string;
      };
      if (body.$ref)
        body = document.components!.schemas[body.$ref.split('/').pop()!] as typeof body;
      expect({ path, method, fields: Object.keys(body.properties).sort() }).toEqual({
        path,
        method,
        fields: fields.sort(),
      });
      expect({ path, method, statuses: Object.keys(operation.responses) }).toEqual({
        path,
        method,
        statuses: expect.arrayContaining(statuses),
      });
    }
    expect(JSON.stringify(document.paths['/auth/password']!.post)).toContain('INVALID_CREDENTIALS');
  });

  it('describes the administration and password reset routes (CONTRACT 8.2)', async () => {
    const document = (await (await fetch(gateway.url('/docs/json'))).json()) as Document;
    type Operation = {
      parameters?: { name: string; in: string }[];
      requestBody?: { content: Record<string, { schema: { properties: object; $ref?: string } }> };
      responses: Record<string, unknown>;
    };
    const operation = (path: string, method: string) => document.paths[path]![method] as Operation;
    const bodyFields = (op: Operation) => {
      let body = op.requestBody!.content['application/json']!.schema;
      if (body.$ref)
        body = document.components!.schemas[body.$ref.split('/').pop()!] as typeof body;
      return Object.keys(body.properties).sort();
    };
    const statuses = (op: Operation) => Object.keys(op.responses);

    const list = operation('/auth/users', 'get');
    expect(list.parameters!.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
      expect.arrayContaining(['prefix', 'cursor', 'limit']),
    );
    expect(statuses(list)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
    expect(statuses(operation('/auth/users/{userId}', 'get'))).toEqual(
      expect.arrayContaining(['200', '401', '403', '404']),
    );
    const roles = operation('/auth/users/{userId}/roles', 'put');
    expect(bodyFields(roles)).toEqual(['roles']);
    expect(statuses(roles)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409']));
    expect(JSON.stringify(roles)).toContain('LAST_ADMIN');
    const suspend = operation('/auth/users/{userId}/suspend', 'post');
    expect(statuses(suspend)).toEqual(expect.arrayContaining(['204', '403', '404', '409']));
    expect(statuses(operation('/auth/users/{userId}/reactivate', 'post'))).toEqual(
      expect.arrayContaining(['204', '403', '404']),
    );
    expect(statuses(operation('/auth/users/{userId}/password-reset', 'post'))).toEqual(
      expect.arrayContaining(['201', '401', '403', '404']),
    );
    const reset = operation('/auth/password-reset', 'post');
    expect(bodyFields(reset)).toEqual(['newPassword', 'token']);
    expect(statuses(reset)).toEqual(expect.arrayContaining(['204', '400', '429']));
    expect(JSON.stringify(reset)).toContain('INVALID_TOKEN');
    expect(JSON.stringify(operation('/auth/login', 'post'))).toContain('ACCOUNT_SUSPENDED');
    expect(JSON.stringify(operation('/auth/me', 'delete'))).toContain('LAST_ADMIN');
  });

  it("serves its own routes and realtime's, saying so, while auth cannot be reached", async () => {
    const lonely = await AppProcess.start('gateway', {
      ...redis.env,
      AUTH_URL: `http://127.0.0.1:${await freePort()}`,
      REALTIME_URL: realtime.url(''),
    });
    try {
      const res = await fetch(lonely.url('/docs/json'));
      expect(res.status).toBe(200);
      const document = (await res.json()) as Document & {
        info: { description: string; 'x-missing-apps'?: string[] };
      };
      const paths = Object.keys(document.paths);
      expect(paths).toEqual(expect.arrayContaining(['/api/ping', '/realtime/presence/{channel}']));
      expect(paths.filter((path) => path.startsWith('/auth'))).toEqual([]);
      expect(document.info['x-missing-apps']).toEqual(['auth']);
      expect(document.info.description).toMatch(/^\*\*Incomplete\.\*\* The routes of the auth app/);
    } finally {
      await lonely.kill();
    }
  });

  it('serves the Swagger UI page at /docs with its assets from the gateway itself', async () => {
    const res = await fetch(gateway.url('/docs'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<div id="swagger-ui"></div>');
    const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toEqual(
      expect.arrayContaining(['/docs/swagger-ui-bundle.js', '/docs/swagger-ui-init.js']),
    );
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\//); // nothing from the internet
      const file = await fetch(gateway.url(asset));
      expect({ asset, status: file.status }).toEqual({ asset, status: 200 });
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const init = await (await fetch(gateway.url('/docs/swagger-ui-init.js'))).text();
    expect(init).toContain('"/docs/json"');
    expect(init).toContain('validatorUrl: null');
  });

  it('answers an unknown docs file with the contract error body', async () => {
    const res = await fetch(gateway.url('/docs/index.html'));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: expect.any(String),
      requestId: res.headers.get('x-request-id'),
    });
  });
});
