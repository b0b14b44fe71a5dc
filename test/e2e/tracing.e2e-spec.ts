import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import {
  AppProcess,
  callJson as call,
  freePort,
  startTestRedis,
  waitFor,
  type TestRedis,
} from '@lattice/testing';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number };
}

const SERVER = 2;
const CLIENT = 3;

/** An OTLP/HTTP receiver (JSON), as a collector would be: every span it was sent. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (request.url === '/v1/traces') receiver.collect(JSON.parse(body));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private collect(document: {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: {
        spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & {
          attributes?: { key: string; value: Record<string, unknown> }[];
        })[];
      }[];
    }[];
  }): void {
    for (const { resource, scopeSpans } of document.resourceSpans) {
      const service =
        resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const { spans } of scopeSpans) {
        for (const span of spans) {
          const attributes = Object.fromEntries(
            (span.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
          );
          this.spans.push({
            ...span,
            service,
            attributes,
            parentSpanId: span.parentSpanId || undefined,
          });
        }
      }
    }
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Tracing as an operator sees it in Jaeger or Tempo: a login through the
 * gateway is one trace, gateway → auth → Redis, with correct parent links;
 * the trace reaches a ROUTES upstream in `traceparent`, a retried request
 * shows both attempts, and a Socket.IO connection through the gateway
 * continues in realtime's handshake.
 */
describe('OpenTelemetry tracing across the gateway, auth and Redis', () => {
  let redis: TestRedis;
  let receiver: OtlpReceiver;
  let upstream: Server;
  const upstreamHeaders: IncomingMessage['headers'][] = [];
  let auth: AppProcess;
  let realtime: AppProcess;
  let gateway: AppProcess;
  let trusting: AppProcess;
  let deadTarget: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    receiver = await OtlpReceiver.start();
    upstream = createServer((request, response) => {
      upstreamHeaders.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    };
    [auth, realtime] = await Promise.all([
      AppProcess.start('auth', { ...redis.env, ...otel }),
      AppProcess.start('realtime', { ...redis.env, ...otel }),
    ]);
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    // Nothing listens there: the first target of /flaky refuses, and its GETs are retried.
    deadTarget = `http://127.0.0.1:${await freePort()}`;
    const routes = JSON.stringify([
      { prefix: '/orders', upstream: upstreamUrl, auth: 'none' },
      { prefix: '/flaky', upstream: [deadTarget, upstreamUrl], auth: 'none' },
    ]);
    const env = {
      ...redis.env,
      ...otel,
      AUTH_URL: auth.url(''),
      REALTIME_URL: realtime.url(''),
      ROUTES: routes,
    };
    [gateway, trusting] = await Promise.all([
      AppProcess.start('gateway', env),
      AppProcess.start('gateway', { ...env, TRACE_TRUST_CLIENT: 'true' }),
    ]);
    for (const app of [auth, realtime, gateway, trusting]) {
      await waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200);
    }
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all([auth, realtime, gateway, trusting].map((app) => app?.kill()));
    await new Promise((resolve) => upstream?.close(resolve));
    await receiver?.close();
    await redis?.dispose();
  });

  it('makes a login through the gateway one trace: gateway → auth → Redis, each span under its caller', async () => {
    const clientTrace = '0af7651916cd43dd8448eb211c80319c';
    const traceparent = `00-${clientTrace}-b7ad6b7169203331-01`;
    expect(
      (
        await call(gateway, 'POST', '/auth/register', {
          body: { login: 'traced', name: 'Traced', password: 'password-123' },
        })
      ).status,
    ).toBe(201);
    const login = await call(gateway, 'POST', '/auth/login', {
      body: { login: 'traced', password: 'password-123' },
      headers: { traceparent },
    });
    expect(login.status).toBe(200);

    const edge = await waitFor('the gateway span of the login', () =>
      receiver.spans.find(
        (s) =>
          s.service === 'lattice-gateway' &&
          s.kind === SERVER &&
          s.attributes['url.path'] === '/auth/login',
      ),
    );
    // A client does not pick the trace at the edge (TRACE_TRUST_CLIENT is off).
    expect(edge.traceId).not.toBe(clientTrace);
    expect(edge.parentSpanId).toBeUndefined();

    const spans = await waitFor('the auth and Redis spans of the login', () => {
      const trace = receiver.trace(edge.traceId);
      const auth = trace.filter((s) => s.service === 'lattice-auth');
      const done = auth.some((s) => s.kind === SERVER) && auth.some((s) => s.kind === CLIENT);
      return done ? trace : undefined;
    });
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    // The gateway's attempt at auth, and under it the request it sent.
    const attempt = spans.find((s) => s.name === 'upstream.attempt')!;
    expect(attempt.parentSpanId).toBe(edge.spanId);
    expect(attempt.attributes).toMatchObject({
      'lattice.route': '/auth',
      'lattice.upstream.target': auth.url(''),
      'lattice.upstream.retry': false,
    });
    const forward = spans.find((s) => s.service === 'lattice-gateway' && s.kind === CLIENT)!;
    expect(forward.parentSpanId).toBe(attempt.spanId);
    const authServer = spans.find((s) => s.service === 'lattice-auth' && s.kind === SERVER)!;
    expect(authServer.parentSpanId).toBe(forward.spanId);
    // Every span of the trace hangs under the gateway's, through its parents.
    const rootOf = (span: ReceivedSpan): ReceivedSpan =>
      span.parentSpanId && byId.has(span.parentSpanId)
        ? rootOf(byId.get(span.parentSpanId)!)
        : span;
    for (const span of spans)
      expect([span.name, rootOf(span).spanId]).toEqual([span.name, edge.spanId]);
    const names = spans.filter((s) => s.service === 'lattice-auth').map((s) => s.name);
    // The login's own steps: its rate limit, and Redis commands (ioredis spans are named by command).
    expect(names).toEqual(expect.arrayContaining(['rate-limit']));
    expect(
      spans.some((s) => s.service === 'lattice-auth' && s.attributes['db.system.name'] === 'redis'),
    ).toBe(true);
  });

  it('passes the trace to a ROUTES upstream in traceparent, and writes its ids on the request log line', async () => {
    const answer = await call(gateway, 'GET', '/orders/1');
    expect(answer.status).toBe(200);
    const sent = upstreamHeaders.at(-1)!.traceparent as string;
    expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const traceId = sent.split('-')[1];
    const edge = await waitFor('the gateway span of the request', () =>
      receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER),
    );
    expect(edge.service).toBe('lattice-gateway');
    const requestId = answer.headers.get('x-request-id');
    const line = await waitFor('the request log line', () =>
      gateway.logs
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => (l.req as { id?: string } | undefined)?.id === requestId),
    );
    expect(line).toMatchObject({ requestId, traceId });
  });

  it('continues a client trace at the edge only with TRACE_TRUST_CLIENT=true', async () => {
    const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await call(trusting, 'GET', '/orders/2', {
      headers: { traceparent: `00-${clientTrace}-00f067aa0ba902b7-01` },
    });
    expect((upstreamHeaders.at(-1)!.traceparent as string).split('-')[1]).toBe(clientTrace);
  });

  it('shows a retried request as two attempts, the first target failed and the second a retry', async () => {
    const answer = await call(gateway, 'GET', '/flaky/1');
    expect(answer.status).toBe(200);
    const traceId = (upstreamHeaders.at(-1)!.traceparent as string).split('-')[1];
    const attempts = await waitFor('both attempts of the request', () => {
      const found = receiver.trace(traceId).filter((s) => s.name === 'upstream.attempt');
      return found.length === 2 ? found : undefined;
    });
    const edge = receiver.trace(traceId).find((s) => s.kind === SERVER)!;
    expect(attempts.map((s) => s.parentSpanId)).toEqual([edge.spanId, edge.spanId]);
    const [first, retry] = [...attempts].sort(
      (a, b) =>
        Number(a.attributes['lattice.upstream.retry']) -
        Number(b.attributes['lattice.upstream.retry']),
    );
    expect(first.attributes).toMatchObject({
      'lattice.route': '/flaky',
      'lattice.upstream.target': deadTarget,
      'lattice.upstream.retry': false,
      'error.type': 'ECONNREFUSED',
    });
    expect(first.status?.code).toBe(2);
    expect(retry.attributes).toMatchObject({
      'lattice.upstream.target': `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      'lattice.upstream.retry': true,
    });
    expect(retry.status?.code ?? 0).not.toBe(2);
    // And counted.
    const metrics = await (await fetch(gateway.url('/metrics'))).text();
    expect(metrics).toContain('lattice_gateway_upstream_retries_total{route="/flaky"} 1');
  });

  it("continues the trace of a Socket.IO connection through the gateway in realtime's handshake", async () => {
    const account = { login: 'socket-traced', password: 'password-123' };
    await call(gateway, 'POST', '/auth/register', { body: { ...account, name: 'Socket' } });
    const login = await call(gateway, 'POST', '/auth/login', { body: account });
    expect(login.status).toBe(200);
    const token = (login.body as { token: string }).token;
    const connect = (transports: ('websocket' | 'polling')[]) => {
      const socket = io(gateway.url(''), {
        auth: { token },
        transports,
        forceNew: true,
        reconnection: false,
      });
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    };
    // A WebSocket from the start (the upgrade is the handshake), then Socket.IO's default (polling first).
    for (const transports of [['websocket'], ['polling', 'websocket']] as const) {
      const before = new Set(receiver.spans.map((s) => s.spanId));
      await connect([...transports]);
      const handshake = await waitFor(`realtime's handshake span (${transports[0]})`, () =>
        receiver.spans.find(
          (s) =>
            !before.has(s.spanId) &&
            s.service === 'lattice-realtime' &&
            s.name === 'socket.handshake',
        ),
      );
      // Its parent is the gateway's request to realtime, in the gateway's trace.
      const forward = await waitFor('the gateway span the handshake continues', () =>
        receiver.spans.find((s) => s.spanId === handshake.parentSpanId),
      );
      expect([forward.service, forward.kind, forward.traceId]).toEqual([
        'lattice-gateway',
        CLIENT,
        handshake.traceId,
      ]);
      const edge = await waitFor('the gateway span of the request', () =>
        receiver.spans.find((s) => s.spanId === forward.parentSpanId),
      );
      expect([edge.service, edge.kind, edge.parentSpanId]).toEqual([
        'lattice-gateway',
        SERVER,
        undefined,
      ]);
      if (transports[0] === 'polling') continue;
      expect(edge.name).toBe('GET /socket.io/ (WebSocket)');
      // The handshake's own work (the session read in Redis; cached for the next one) is under it.
      const read = await waitFor('the session read of the handshake', () =>
        receiver.spans.find(
          (s) => s.name === 'session.read' && s.parentSpanId === handshake.spanId,
        ),
      );
      expect(read.traceId).toBe(edge.traceId);
    }
  });
});
