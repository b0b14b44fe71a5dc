import { createHash } from 'node:crypto';
import { AppProcess, freePort, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { TargetServer } from '../fixtures/gateway/target-server';

const UPSTREAM_TIMEOUT_MS = 1000;
const CACHE_SYNC_TOKEN = 'upstream-targets-e2e-token';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * ROUTES entries with several targets (CONTRACT 8.4), against a real gateway
 * and real upstream servers that die, slow down and hang: requests are spread
 * over the targets, retried once elsewhere only when that is safe, and kept
 * away from failing targets.
 */
describe('a route with several upstream targets', () => {
  let redis: TestRedis;
  let gateway: AppProcess;
  /** /pool: one is killed mid-run. */
  let poolA: TargetServer;
  let poolB: TargetServer;
  /** /steady: B turns slow, then recovers. */
  let steadyA: TargetServer;
  let steadyB: TargetServer;
  /** /stuck: both stop answering. */
  let stuckA: TargetServer;
  let stuckB: TargetServer;
  let goneUrls: string[];

  const call = (path: string, init: RequestInit = {}) => fetch(gateway.url(path), init);

  /** The value of one series in the gateway's /metrics, or undefined when it has none. */
  async function metric(name: string, labels: Record<string, string>): Promise<number | undefined> {
    const text = await (await call('/metrics')).text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith(`${name}{`) &&
          Object.entries(labels).every(([key, value]) => l.includes(`${key}="${value}"`)),
      );
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  const inRotation = (route: string, target: TargetServer | string) =>
    metric('lattice_gateway_upstream_target_up', {
      route,
      target: typeof target === 'string' ? target : target.url,
    });
  const retries = async (route: string) =>
    (await metric('lattice_gateway_upstream_retries_total', { route })) ?? 0;

  beforeAll(async () => {
    [redis, poolA, poolB, steadyA, steadyB, stuckA, stuckB] = await Promise.all([
      startTestRedis(),
      TargetServer.start('pool-a'),
      TargetServer.start('pool-b'),
      TargetServer.start('steady-a'),
      TargetServer.start('steady-b'),
      TargetServer.start('stuck-a'),
      TargetServer.start('stuck-b'),
    ]);
    // Nothing listens there.
    goneUrls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    gateway = await AppProcess.start('gateway', {
      ...redis.env,
      AUTH_URL: nowhere,
      REALTIME_URL: nowhere,
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      CACHE_SYNC_TOKEN,
      // The test's own requests all come from one address.
      RATE_LIMIT_IP: '100000/60',
      ROUTES: JSON.stringify([
        { prefix: '/pool', upstream: [poolA.url, poolB.url], auth: 'none' },
        { prefix: '/steady', upstream: [steadyA.url, steadyB.url], auth: 'none' },
        { prefix: '/stuck', upstream: [stuckA.url, stuckB.url], auth: 'none' },
        { prefix: '/gone', upstream: goneUrls, auth: 'none' },
      ]),
    });
    await waitFor('the gateway to be ready', async () => {
      return (await call('/health/ready')).status === 200;
    });
  });

  afterAll(async () => {
    await gateway?.kill();
    await Promise.all(
      [poolA, poolB, steadyA, steadyB, stuckA, stuckB].map((target) => target?.kill()),
    );
    await redis?.dispose();
  });

  it('spreads requests over the targets in turn, and reports each in rotation', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await call(`/steady/spread?i=${i}`);
      expect(res.status).toBe(200);
    }
    expect(steadyA.hitsAt('/steady/spread')).toHaveLength(5);
    expect(steadyB.hitsAt('/steady/spread')).toHaveLength(5);
    expect(await inRotation('/steady', steadyA)).toBe(1);
    expect(await inRotation('/steady', steadyB)).toBe(1);
  });

  it('never retries a POST or PATCH, and retries an idempotent request once, on the other target', async () => {
    const before = await retries('/pool');
    for (const method of ['POST', 'PATCH']) {
      const res = await call('/pool/crash', { method, body: '{"order":1}' });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ statusCode: 502, code: 'BAD_GATEWAY' });
      const hits = [...poolA.hitsAt('/pool/crash'), ...poolB.hitsAt('/pool/crash')];
      expect(hits.filter((hit) => hit.method === method)).toHaveLength(1);
    }
    // Both targets drop it: the second attempt's failure is the answer, with no third.
    const sent = (target: TargetServer, method: string) =>
      target.hitsAt('/pool/crash').filter((hit) => hit.method === method);
    for (const method of ['PUT', 'DELETE', 'OPTIONS']) {
      const res = await call('/pool/crash', { method, body: '{"order":1}' });
      expect([method, res.status]).toEqual([method, 502]);
      expect([method, sent(poolA, method).length, sent(poolB, method).length]).toEqual([
        method,
        1,
        1,
      ]);
      // The retry carried the whole body again.
      expect(sent(poolB, method)[0].bodySha256).toBe(sha256('{"order":1}'));
    }
    expect((await retries('/pool')) - before).toBe(3);
  });

  it('answers every idempotent request while a target is killed mid-run', async () => {
    poolA.delayMs = 30;
    poolB.delayMs = 30;
    const before = await retries('/pool');
    const methods = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const;
    const problems: string[] = [];
    let answered = 0;
    const worker = async (w: number) => {
      for (let i = 0; i < 30; i++) {
        const method = methods[(w + i) % methods.length];
        const body = method === 'PUT' ? JSON.stringify({ w, i, pad: 'x'.repeat(2000) }) : undefined;
        const res = await call(`/pool/items/${w}-${i}`, { method, body });
        answered += 1;
        if (res.status !== 200) {
          problems.push(`${method} ${w}-${i}: ${res.status} ${await res.text()}`);
          continue;
        }
        if (method === 'HEAD') continue;
        const seen = (await res.json()) as { method: string; bodySha256: string };
        if (seen.method !== method) problems.push(`${method} ${w}-${i} arrived as ${seen.method}`);
        if (body !== undefined && seen.bodySha256 !== sha256(body)) {
          problems.push(`${method} ${w}-${i}: the body arrived altered`);
        }
      }
    };
    // Killed while it holds requests it has not answered yet.
    const killed = waitFor(
      'some requests answered, and some waiting at A',
      () => answered >= 40 && poolA.waiting > 0,
      30_000,
      1,
    ).then(() => poolA.kill());
    await Promise.all([killed, ...[0, 1, 2, 3, 4, 5].map(worker)]);

    expect(problems).toEqual([]);
    // Requests in flight at A when it died (reset before any answer), and those that found it
    // gone (refused), were sent to B once more.
    expect((await retries('/pool')) - before).toBeGreaterThan(0);
    const retried = gateway.logs
      .split('\n')
      .filter((line) => line.includes('/pool/items/') && line.includes('retrying on another'));
    expect(retried.some((line) => /\((ECONNRESET|UND_ERR_SOCKET)\)/.test(line))).toBe(true);
    expect(retried.some((line) => line.includes('(ECONNREFUSED)'))).toBe(true);
    expect(await inRotation('/pool', poolA)).toBe(0);
    expect(await inRotation('/pool', poolB)).toBe(1);
    // Out of rotation, A is not tried any more: B answers at once, without retries.
    const settled = await retries('/pool');
    for (let i = 0; i < 5; i++) {
      const res = await call(`/pool/after/${i}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ target: 'pool-b' });
    }
    expect(await retries('/pool')).toBe(settled);

    // A POST that meets a dead target is not retried either: one attempt, 502.
    const postsAtB = () =>
      poolB.hitsAt('/pool/crash').filter((hit) => hit.method === 'POST').length;
    const posts = postsAtB();
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      statuses.push((await call('/pool/crash', { method: 'POST', body: '{}' })).status);
    }
    expect(statuses).toEqual([502, 502]);
    expect(postsAtB() - posts).toBe(2);
  });

  it('takes a slow target out of rotation, and back once it answers again', async () => {
    steadyB.delayMs = 3 * UPSTREAM_TIMEOUT_MS;
    const statuses = new Set<number>();
    await waitFor(
      'the slow target to leave rotation',
      async () => {
        statuses.add((await call('/steady/slow')).status);
        return (await inRotation('/steady', steadyB)) === 0;
      },
      30_000,
      0,
    );
    // Clients waited for the slow target's timeouts (504) until it left rotation; nothing else failed.
    expect([...statuses].sort()).toEqual([200, 504]);

    const slowHits = steadyB.hitsAt('/steady/meanwhile').length;
    for (let i = 0; i < 10; i++) {
      const res = await call('/steady/meanwhile');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ target: 'steady-a' });
    }
    expect(steadyB.hitsAt('/steady/meanwhile')).toHaveLength(slowHits);

    // It recovers: after its cool-down one real request probes it, and its answer brings it back.
    steadyB.delayMs = 0;
    await waitFor(
      'the recovered target to return to rotation',
      async () => {
        expect((await call('/steady/probing')).status).toBe(200);
        return (await inRotation('/steady', steadyB)) === 1;
      },
      30_000,
      100,
    );
    const back = steadyB.hitsAt('/steady/again').length;
    for (let i = 0; i < 4; i++) expect((await call('/steady/again')).status).toBe(200);
    expect(steadyB.hitsAt('/steady/again').length - back).toBe(2);
  });

  it('answers 503 UPSTREAM_UNAVAILABLE at once when every target of a route is out', async () => {
    stuckA.delayMs = Infinity;
    stuckB.delayMs = Infinity;
    // Three timeouts each: both targets leave rotation.
    const first = await Promise.all(Array.from({ length: 6 }, () => call('/stuck/x')));
    expect(first.map((res) => res.status)).toEqual([504, 504, 504, 504, 504, 504]);
    expect([stuckA.hitsAt('/stuck/x').length, stuckB.hitsAt('/stuck/x').length]).toEqual([3, 3]);
    expect(await inRotation('/stuck', stuckA)).toBe(0);
    expect(await inRotation('/stuck', stuckB)).toBe(0);

    const started = performance.now();
    const res = await call('/stuck/x');
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      statusCode: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      message: expect.any(String),
      requestId: res.headers.get('x-request-id'),
    });
    expect(elapsed).toBeLessThan(UPSTREAM_TIMEOUT_MS / 4);
    expect([stuckA.hitsAt('/stuck/x').length, stuckB.hitsAt('/stuck/x').length]).toEqual([3, 3]);

    // Targets that refuse connections: each request tries both (502), until both are out.
    const gone: number[] = [];
    for (let i = 0; i < 4; i++) gone.push((await call('/gone/x')).status);
    expect(gone).toEqual([502, 502, 502, 503]);
    for (const url of goneUrls) expect(await inRotation('/gone', url)).toBe(0);
  });

  it('takes lists of targets in the route table set at run time (gateway:routes)', async () => {
    const setTable = (value: unknown) =>
      call('/api/cache/events', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${CACHE_SYNC_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ key: 'SET', value: { data: { key: 'gateway:routes', value } } }),
      });
    const refused = await setTable([
      { prefix: '/late', upstream: [steadyA.url, 'ftp://nowhere'], auth: 'none' },
    ]);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 'INVALID_EVENT',
      message: expect.stringContaining('upstream.1 must be an http or https URL'),
    });

    const set = await setTable([
      { prefix: '/late', upstream: [steadyA.url, steadyB.url], auth: 'none' },
    ]);
    expect(set.status).toBe(200);
    await waitFor('the new table', async () => (await call('/late/x')).status === 200);
    const [a, b] = [steadyA.hitsAt('/late/x').length, steadyB.hitsAt('/late/x').length];
    for (let i = 0; i < 4; i++) expect((await call('/late/x')).status).toBe(200);
    expect([steadyA.hitsAt('/late/x').length - a, steadyB.hitsAt('/late/x').length - b]).toEqual([
      2, 2,
    ]);
    // The gauge reports the table in use: the new route's targets, not the replaced routes'.
    expect(await inRotation('/late', steadyA)).toBe(1);
    expect(await inRotation('/late', steadyB)).toBe(1);
    expect(await inRotation('/steady', steadyA)).toBeUndefined();
  });
});
