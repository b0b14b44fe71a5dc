import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppProcess, sleep, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { EchoUpstream, type Seen } from '../fixtures/gateway/echo-upstream';
import { RawConnection } from '../fixtures/gateway/raw-http';
import { PresenceClient } from '../fixtures/presence/presence-client';

const MIB = 1024 * 1024;
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 4000;
const CONNECTIONS_PER_CLIENT = 16;
const UPLOADS_PER_CLIENT = 8;
const ACCOUNT = { login: 'edge-user', name: 'Edge User', password: 'password-123' };

/** The resident memory of a process, in bytes (Linux). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

/** The head of a JSON POST whose body then comes as the test writes it. */
const postHead = (path: string, length: number | 'chunked') =>
  `POST ${path} HTTP/1.1\r\nHost: edge.test\r\nContent-Type: application/json\r\n` +
  (length === 'chunked'
    ? 'Transfer-Encoding: chunked\r\n\r\n'
    : `Content-Length: ${length}\r\n\r\n`);

/**
 * The edge against clients that try to make it stop answering others: uploads
 * that stall, oversized bodies and frames, pipelined requests after a
 * refusal, piles of connections. Attackers come from other loopback addresses
 * (127.0.x.y), so the per-client caps see them as other clients than the
 * test's own requests, which come from 127.0.0.1.
 */
describe('the edge under abusive clients', () => {
  let redis: TestRedis;
  let echo: EchoUpstream;
  let auth: AppProcess;
  let realtime: AppProcess;
  let gateway: AppProcess;

  const seenAt = (url: string): Seen[] => echo.seen.filter((seen) => seen.url === url);
  const login = () =>
    fetch(gateway.url('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: ACCOUNT.login, password: ACCOUNT.password }),
      // Answered in milliseconds when the edge is healthy; a starved pool never answers.
      signal: AbortSignal.timeout(5_000),
    });
  const routed = (path: string, init: RequestInit = {}) =>
    fetch(gateway.url(path), { ...init, signal: AbortSignal.timeout(5_000) });

  /** A stalled upload: the head and a few bytes of a body that never comes. */
  async function stallUpload(path: string, from: string): Promise<RawConnection> {
    const connection = await RawConnection.open(gateway.port, from);
    await connection.write(`${postHead(path, 100_000)}{"login":"x`);
    return connection;
  }

  /**
   * After a refused request, a pipelined one: the client gets the refusal, then
   * either the second answer or a close, never silence.
   */
  async function expectRefusalThenNext(connection: RawConnection, status: number): Promise<void> {
    const [refusal, next] = await connection.responses(2, 10_000);
    expect(refusal?.status).toBe(status);
    expect(JSON.parse(refusal.body)).toMatchObject({
      statusCode: status,
      code: 'PAYLOAD_TOO_LARGE',
    });
    if (next === undefined) expect(connection.isClosed).toBe(true);
    else expect(next.status).toBe(200);
    connection.destroy();
  }

  beforeAll(async () => {
    [redis, echo] = await Promise.all([startTestRedis(), EchoUpstream.start()]);
    const platform = { ...redis.env, TRUST_PROXY: 'true' };
    [auth, realtime] = await Promise.all([
      AppProcess.start('auth', platform),
      AppProcess.start('realtime', platform),
    ]);
    gateway = await AppProcess.start('gateway', {
      ...redis.env,
      AUTH_URL: auth.url(''),
      REALTIME_URL: realtime.url(''),
      ROUTES: JSON.stringify([{ prefix: '/plain', upstream: echo.url, auth: 'none' }]),
      CLIENT_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      CLIENT_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      MAX_CONNECTIONS_PER_CLIENT: String(CONNECTIONS_PER_CLIENT),
      MAX_UPLOADS_PER_CLIENT: String(UPLOADS_PER_CLIENT),
    });
    await Promise.all(
      [auth, realtime, gateway].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
    const registered = await fetch(gateway.url('/auth/register'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ACCOUNT),
    });
    expect(registered.status).toBe(201);
  });

  afterAll(async () => {
    await Promise.all([auth, realtime, gateway].map((app) => app?.kill()));
    await echo?.close();
    await redis?.dispose();
  });

  it('keeps answering /auth and ROUTES while hundreds of uploads stall mid-body', async () => {
    // More stalled uploads to each upstream than the gateway keeps connections to it (128),
    // from 40 addresses: each one stays under the per-client caps.
    const stalled: RawConnection[] = [];
    for (let i = 0; i < 280; i++) {
      const path = i % 2 === 0 ? '/auth/register' : '/plain/upload';
      stalled.push(await stallUpload(path, `127.0.1.${1 + (i % 40)}`));
    }
    try {
      await sleep(300);
      expect(stalled.filter((connection) => connection.isClosed)).toHaveLength(0);
      for (let round = 0; round < 3; round++) {
        const answer = await login();
        expect(answer.status).toBe(200);
        expect(await answer.json()).toMatchObject({ user: { login: ACCOUNT.login } });
        const upload = await routed('/plain/upload', { method: 'POST', body: '{"ok":true}' });
        expect(upload.status).toBe(200);
        expect(((await upload.json()) as Seen).bodyBytes).toBe(11);
        await sleep(300);
      }
      // Nothing of the stalled uploads ever reached an upstream.
      expect(seenAt('/plain/upload')).toHaveLength(3);
    } finally {
      for (const connection of stalled) connection.destroy();
    }
  });

  it('gives headers and whole requests their own deadlines, then closes the connection', async () => {
    const slowBody = await stallUpload('/plain/upload', '127.0.2.1');
    const slowHeaders = await RawConnection.open(gateway.port, '127.0.2.2');
    await slowHeaders.write('POST /plain/upload HTTP/1.1\r\nHost: edge.test\r\n');
    const [body, headers] = await Promise.all([
      slowBody.receive(REQUEST_TIMEOUT_MS + 5_000),
      slowHeaders.receive(REQUEST_TIMEOUT_MS + 5_000),
    ]);
    // Node checks the deadlines once a second.
    expect(headers.closed).toBe(true);
    expect(headers.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS - 500);
    expect(headers.responses[0]?.status).toBe(408);
    expect(body.closed).toBe(true);
    expect(body.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 1_000);
    expect(body.responses[0]?.status).toBe(408);
  });

  it('caps the uploads and the connections of one client, leaving the others alone', async () => {
    const uploader = '127.0.3.1';
    const stalled: RawConnection[] = [];
    try {
      for (let i = 0; i < UPLOADS_PER_CLIENT; i++)
        stalled.push(await stallUpload('/plain/upload', uploader));
      await sleep(200);
      const refused = await stallUpload('/plain/upload', uploader);
      stalled.push(refused);
      const [answer] = await refused.responses(1, 3_000);
      expect(answer).toMatchObject({ status: 429, headers: { 'retry-after': '1' } });
      expect(JSON.parse(answer.body)).toMatchObject({
        statusCode: 429,
        code: 'RATE_LIMITED',
        requestId: expect.any(String),
      });
      expect((await routed('/plain/other')).status).toBe(200);

      // An upload that ends gives its slot back.
      stalled.shift()!.destroy();
      await sleep(200);
      const next = await RawConnection.open(gateway.port, uploader);
      await next.write(`${postHead('/plain/upload', 2)}{}`);
      expect((await next.responses(1, 3_000))[0]?.status).toBe(200);
      next.destroy();

      const opener = '127.0.3.2';
      const open: RawConnection[] = [];
      for (let i = 0; i < CONNECTIONS_PER_CLIENT; i++)
        open.push(await RawConnection.open(gateway.port, opener));
      stalled.push(...open);
      const extra = await RawConnection.open(gateway.port, opener);
      const dropped = await extra.receive(HEADERS_TIMEOUT_MS / 2);
      expect(dropped).toMatchObject({ closed: true, responses: [] });
      expect(open.filter((connection) => connection.isClosed)).toHaveLength(0);
      expect((await routed('/plain/other')).status).toBe(200);
    } finally {
      for (const connection of stalled) connection.destroy();
    }
  });

  it('answers bodies over 1 MiB with 413 before forwarding, then closes or serves the next request', async () => {
    const next = 'GET /plain/after HTTP/1.1\r\nHost: edge.test\r\n\r\n';
    const body = Buffer.alloc(2 * MIB, 'a');
    for (const path of ['/plain/big', '/auth/register', '/plain/big', '/auth/register']) {
      const connection = await RawConnection.open(gateway.port);
      void connection.write(Buffer.concat([Buffer.from(postHead(path, body.length)), body]));
      void connection.write(next);
      await expectRefusalThenNext(connection, 413);
    }
    // Chunked, growing past the limit.
    for (const path of ['/plain/big', '/auth/register']) {
      const connection = await RawConnection.open(gateway.port);
      await connection.write(postHead(path, 'chunked'));
      const chunk = Buffer.alloc(64 * 1024, 'b');
      for (let sent = 0; sent < 2 * MIB && !connection.isClosed; sent += chunk.length) {
        await connection.write(
          Buffer.concat([Buffer.from(`10000\r\n`), chunk, Buffer.from('\r\n')]),
        );
      }
      void connection.write(`0\r\n\r\n${next}`);
      await expectRefusalThenNext(connection, 413);
    }
    expect(seenAt('/plain/big')).toHaveLength(0);
    // Up to the limit, bodies pass whole.
    const atLimit = await routed('/plain/limit', { method: 'PUT', body: Buffer.alloc(MIB, 'c') });
    expect(((await atLimit.json()) as Seen).bodyBytes).toBe(MIB);
  });

  it('forwards query strings unchanged, refusing only `..` path segments', async () => {
    for (const query of ['next=../dashboard', 'a=..%2F..%2Fetc&b=/../', 'q=%zz', 'back=..']) {
      const res = await routed(`/plain/q?${query}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Seen).url).toBe(`/plain/q?${query}`);
    }
    // The auth app answers for itself.
    expect((await routed('/auth/me?next=../x')).status).toBe(401);
    const traversal = await RawConnection.open(gateway.port);
    await traversal.write('GET /plain/../secret HTTP/1.1\r\nHost: edge.test\r\n\r\n');
    const [refused] = await traversal.responses(1, 3_000);
    expect(refused?.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'BAD_REQUEST' });
    traversal.destroy();
  });

  it('removes identity headers spelled with underscores before forwarding', async () => {
    const res = await routed('/plain/who', {
      headers: { X_User_Id: '999', x_session_id: 'forged', 'X-User_Roles': 'admin', x_trace: '1' },
    });
    const seen = (await res.json()) as Seen;
    for (const name of ['x_user_id', 'x_session_id', 'x-user_roles', 'x-user-id', 'x-user-roles'])
      expect(seen.headers[name]).toBeUndefined();
    expect(seen.headers.x_trace).toBe('1');
  });

  it('passes an upstream’s 503 through at once, without retrying it', async () => {
    const res = await routed('/plain/busy?status=503');
    expect(res.status).toBe(503);
    expect(res.headers.get('x-upstream')).toBe('echo');
    // Any retry would have come within this time.
    await sleep(500);
    expect(seenAt('/plain/busy?status=503')).toHaveLength(1);
  });

  it('forwards Socket.IO long-polling bodies whole to the realtime app', async () => {
    const polling = '/socket.io/?EIO=4&transport=polling';
    const opened = await (await routed(polling)).text();
    const { sid } = JSON.parse(opened.slice(1)) as { sid: string };
    const sent = await routed(`${polling}&sid=${sid}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: '40',
    });
    expect(await sent.text()).toBe('ok');
    // The namespace heard the connect packet, and refuses it without a session.
    expect(await (await routed(`${polling}&sid=${sid}`)).text()).toMatch(/^44.*UNAUTHENTICATED/);
  });

  it('closes WebSockets whose frames exceed the realtime limit, without holding them in memory', async () => {
    const frameBytes = 48 * MIB;
    const pid = gateway.pid!;
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);
    const sockets = await Promise.all(
      [1, 2, 3, 4].map(async (n) => {
        const connection = await RawConnection.open(gateway.port, `127.0.4.${n}`);
        await connection.write(
          'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: edge.test\r\n' +
            'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
        );
        await waitFor('the upgrade', () => connection.text.includes('\r\n\r\n'));
        expect(connection.text).toMatch(/^HTTP\/1\.1 101 /);
        // One binary frame, masked as a client's must be, announcing 48 MiB.
        const header = Buffer.alloc(14);
        header[0] = 0x82;
        header[1] = 0x80 | 127;
        header.writeBigUInt64BE(BigInt(frameBytes), 2);
        randomBytes(4).copy(header, 10);
        await connection.write(header);
        const chunk = Buffer.alloc(MIB, 7);
        for (let sent = 0; sent < frameBytes && !connection.isClosed; sent += chunk.length) {
          if (!(await connection.write(chunk))) break;
        }
        return connection;
      }),
    );
    let closed: boolean[];
    try {
      closed = [];
      for (const connection of sockets) closed.push((await connection.receive(10_000)).closed);
      await sleep(500);
    } finally {
      clearInterval(sampler);
      for (const connection of sockets) connection.destroy();
    }
    // Unbounded, the gateway would hold all four frames (192 MiB) at once.
    expect(peak - baseline).toBeLessThan(frameBytes);
    expect(closed).toEqual([true, true, true, true]);

    // Within the limit, sockets work, and live on past the request deadline.
    const account = (await (await login()).json()) as { token: string };
    const client = await PresenceClient.connect(gateway.url(''), { token: account.token });
    try {
      await sleep(REQUEST_TIMEOUT_MS + 1_500);
      expect(client.socket.connected).toBe(true);
      expect(await client.join('edge-room')).toMatchObject({ ok: true });
    } finally {
      client.close();
    }
  });
});
