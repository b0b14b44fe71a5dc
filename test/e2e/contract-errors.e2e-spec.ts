import { connect } from 'node:net';
import { AppProcess, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  bytes: number;
}

/** Writes `request` on a fresh TCP connection, as is, and reads the answer until the server closes. */
function rawRequest(port: number, request: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseAnswer(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = text.slice(end + 4);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: JSON.parse(body) as Record<string, unknown>,
    bytes: Buffer.byteLength(body),
  };
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });
}

const get = (path: string, extraHeaders = '') =>
  `GET ${path} HTTP/1.1\r\nHost: lattice.test\r\nConnection: close\r\n${extraHeaders}\r\n`;
const postJson = (path: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: lattice.test\r\nConnection: close\r\n` +
  `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** The contract's error body, and the X-Request-Id header naming the same request. */
function expectContractError(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(answer.body).toEqual({
    statusCode: status,
    code,
    message: expect.any(String),
    requestId: expect.any(String),
    ...('details' in answer.body ? { details: expect.any(Array) } : {}),
  });
  expect(answer.body.message).not.toMatch(/FST_|Error:|\n\s+at /);
  expect(answer.headers['x-request-id']).toBe(answer.body.requestId);
}

/**
 * CONTRACT 3 for what Fastify and Node refuse before any handler runs: every
 * answer of every app has `{ statusCode, code, message, requestId }` and
 * `X-Request-Id`, written over raw TCP so nothing on the client side tidies
 * the request or the answer.
 */
describe('the error body on every answer of every app', () => {
  let redis: TestRedis;
  let apps: Record<'gateway' | 'auth' | 'realtime', AppProcess>;
  /**
   * A route with a path parameter in each app. The gateway forwards every path
   * it does not serve itself (`/*`), so there an over-long parameter falls
   * through to that route and is answered 404.
   */
  const paramRoute = {
    gateway: {
      request: (param: string) => get(`/api/presence/${param}`),
      status: 404,
      code: 'NOT_FOUND',
    },
    auth: {
      request: (param: string) => get(`/auth/sessions/${param}`).replace(/^GET/, 'DELETE'),
      status: 414,
      code: 'URI_TOO_LONG',
    },
    realtime: {
      request: (param: string) => get(`/realtime/presence/${param}`),
      status: 414,
      code: 'URI_TOO_LONG',
    },
  };
  /** A route taking a JSON body in each app. */
  const jsonRoute = {
    gateway: '/api/cache/events',
    auth: '/auth/register',
    realtime: '/realtime/presence/lobby',
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    const platform = { ...redis.env, TRUST_PROXY: 'true' };
    const [auth, realtime] = await Promise.all([
      AppProcess.start('auth', platform),
      AppProcess.start('realtime', platform),
    ]);
    const gateway = await AppProcess.start('gateway', {
      ...platform,
      AUTH_URL: auth.url(''),
      REALTIME_URL: realtime.url(''),
      CACHE_SYNC_TOKEN: 'contract-errors-token-0123456789',
    });
    apps = { gateway, auth, realtime };
    await Promise.all(
      Object.values(apps).map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(Object.values(apps ?? {}).map((app) => app.stop()));
    await redis?.dispose();
  });

  describe.each(['gateway', 'auth', 'realtime'] as const)('%s', (name) => {
    const port = () => apps[name].port;

    it('answers a URL that does not decode (/%ff) with 400 BAD_REQUEST, keeping a safe request id', async () => {
      const answer = await rawRequest(port(), get('/%ff', 'X-Request-Id: client-chosen.id-1\r\n'));
      expectContractError(answer, 400, 'BAD_REQUEST');
      expect(answer.body.requestId).toBe('client-chosen.id-1');
    });

    it('answers a path parameter over 200 characters with 414 URI_TOO_LONG (gateway: 404)', async () => {
      const { request, status, code } = paramRoute[name];
      expectContractError(await rawRequest(port(), request('p'.repeat(201))), status, code);
    });

    it('answers an unknown route and an unrouted method with 404 NOT_FOUND', async () => {
      expectContractError(await rawRequest(port(), get('/no/such/route')), 404, 'NOT_FOUND');
      const remove = get('/health/live').replace(/^GET/, 'DELETE');
      expectContractError(await rawRequest(port(), remove), 404, 'NOT_FOUND');
    });

    it('answers a NUL byte in a header with 400 BAD_REQUEST and closes the connection', async () => {
      const answer = await rawRequest(port(), get('/health/live', 'X-Evil: a\u0000b\r\n'));
      expectContractError(answer, 400, 'BAD_REQUEST');
      expect(answer.headers.connection).toBe('close');
    });

    it('answers conflicting body lengths (a smuggling attempt) with 400 BAD_REQUEST and closes the connection', async () => {
      const post =
        'POST /auth/login HTTP/1.1\r\nHost: lattice.test\r\nContent-Type: application/json\r\n';
      const smuggled = 'GET /health/live HTTP/1.1\r\nHost: lattice.test\r\n\r\n';
      for (const request of [
        `${post}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
        `${post}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}${smuggled}`,
      ]) {
        const answer = await rawRequest(port(), request);
        expectContractError(answer, 400, 'BAD_REQUEST');
        expect(answer.headers.connection).toBe('close');
      }
    });

    it('answers a 20 KB URL with 431 HEADERS_TOO_LARGE and closes the connection', async () => {
      const answer = await rawRequest(port(), get(`/health/live?${'q'.repeat(20_000)}`));
      expectContractError(answer, 431, 'HEADERS_TOO_LARGE');
      expect(answer.headers.connection).toBe('close');
    });

    it('answers a JSON body nested past 32 levels with 400 VALIDATION_FAILED naming the limit', async () => {
      for (const levels of [33, 2500, 100_000]) {
        const deep = `{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
        const answer = await rawRequest(port(), postJson(jsonRoute[name], deep));
        expectContractError(answer, 400, 'VALIDATION_FAILED');
        expect(answer.body.message).toMatch(/more than 32 levels deep/);
      }
    });
  });

  it('answers a 650 KB body of unknown fields with a small validation answer', async () => {
    const body: Record<string, unknown> = {
      login: 'bounded',
      name: 'Bounded',
      password: 'long enough',
    };
    for (let i = 0; body && JSON.stringify(body).length < 650_000; i += 1000) {
      for (let j = i; j < i + 1000; j++) body[`unknown_field_${j}`] = j;
    }
    for (const app of [apps.auth, apps.gateway]) {
      const answer = await rawRequest(app.port, postJson('/auth/register', JSON.stringify(body)));
      expectContractError(answer, 400, 'VALIDATION_FAILED');
      expect(answer.bytes).toBeLessThan(2_000);
      expect(answer.body.details).toEqual([
        {
          path: '(root)',
          message: expect.stringMatching(/^unknown fields "unknown_field_0", .* and \d+ more$/),
        },
      ]);
    }
  });

  it.each([
    ['a NUL byte', 'Ada\u0000'],
    ['a terminal escape', '\u001b[2JAda'],
    ['a right-to-left override', 'Ada\u202enimda'],
    ['a directional isolate', '\u2067Ada\u2069'],
  ])(
    'refuses a display name with %s at registration (400 VALIDATION_FAILED)',
    async (_what, name) => {
      const res = await fetch(apps.gateway.url('/auth/register'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          login: `bidi${Math.floor(Math.random() * 1e6)}`,
          name,
          password: 'long enough',
        }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ path: 'name', message: expect.stringMatching(/control characters/) }],
      });
    },
  );

  /**
   * Opens a connection and begins a request, stops the app, and ends the
   * request once the app no longer accepts connections: the answer it gets.
   */
  async function requestDuringShutdown(app: AppProcess): Promise<RawAnswer> {
    const socket = connect(app.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // The request has begun, so the connection is busy and the server waits for it…
    socket.write('GET /health/live HTTP/1.1\r\nHost: lattice.test\r\n');
    const exited = app.stop();
    // …and ends once the server is closing: it no longer accepts connections.
    await waitFor('the server to stop listening', () => refusesConnections(app.port));
    socket.write('Connection: keep-alive\r\n\r\n');
    await closed;
    expect(await exited).toBe(0);
    return parseAnswer(Buffer.concat(chunks).toString('utf8'));
  }

  // Last: these stop the apps.
  it.each(['gateway', 'auth'] as const)(
    'answers a request that arrives on an open connection while the server closes with 503 UNAVAILABLE (%s)',
    async (name) => {
      const answer = await requestDuringShutdown(apps[name]);
      expectContractError(answer, 503, 'UNAVAILABLE');
      expect(answer.headers.connection).toBe('close');
    },
  );

  it('serves such a request in realtime, whose Socket.IO server stops listening before Fastify closes', async () => {
    const answer = await requestDuringShutdown(apps.realtime);
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(answer.headers['x-request-id']).toEqual(expect.any(String));
  });
});
