import {
  AppProcess,
  RedisServer,
  sleep,
  startTestRedis,
  testRedisMode,
  waitFor,
  type TestRedis,
} from '@lattice/testing';

jest.setTimeout(120_000);

interface Hit {
  status: number;
  ms: number;
  policy: string | null;
  state: string | null;
  retryAfter: string | null;
  code?: string;
}

/** One GET /api/ping as a client at `ip` (through X-Forwarded-For; the apps trust the proxy). */
async function hit(proc: AppProcess, ip: string): Promise<Hit> {
  const started = performance.now();
  const res = await fetch(proc.url('/api/ping'), { headers: { 'x-forwarded-for': ip } });
  const body = (await res.json()) as { code?: string };
  return {
    status: res.status,
    ms: performance.now() - started,
    policy: res.headers.get('ratelimit-policy'),
    state: res.headers.get('ratelimit'),
    retryAfter: res.headers.get('retry-after'),
    code: body.code,
  };
}

/** Runs `tasks` with at most `width` in flight, like that many concurrent clients. */
async function concurrently<T>(width: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

/** How many times these instances stopped using Redis (it failed or missed its 50 ms deadline). */
async function fallbacks(procs: AppProcess[]): Promise<number> {
  let total = 0;
  for (const proc of procs) {
    const text = await (await fetch(proc.url('/metrics'))).text();
    total += Number(/^lattice_rate_limit_fallbacks_total (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

/**
 * Runs a scenario that holds while Redis answers in time. On a loaded machine
 * Redis can stall past the limiter's deadline, and the instances then decide in
 * process, by design; a run that failed while that happened is repeated with
 * fresh clients (three runs at most). A failure without a fallback fails at once.
 */
async function whileRedisAnswers(
  procs: AppProcess[],
  scenario: () => Promise<void>,
): Promise<void> {
  for (let run = 1; ; run++) {
    const before = await fallbacks(procs);
    try {
      await scenario();
      return;
    } catch (error) {
      if (run >= 3 || (await fallbacks(procs)) === before) throw error;
    }
  }
}

const remaining = (h: Hit): number => Number(/;r=(\d+);/.exec(h.state ?? '')?.[1] ?? NaN);

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
};

/**
 * Requests answered without waiting on Redis: typically a few ms, tens at worst
 * (the bounds leave room for a machine busy with other suites). Single outliers on a loaded 2-core machine are scheduling, not Redis, so the
 * bound on the slowest one only rules out the seconds a queued or timed-out
 * Redis call would take (the connection's command timeout is 2 s).
 */
function expectPromptAnswers(latencies: number[]): void {
  expect(percentile(latencies, 0.5)).toBeLessThan(100);
  expect(percentile(latencies, 0.95)).toBeLessThan(250);
  expect(Math.max(...latencies)).toBeLessThan(1500);
}

/**
 * The two outage tests stop, restart and pause one redis-server under the
 * gateways, so they run on a standalone Redis only (jest project e2e); the
 * others run on a cluster too (project e2e-cluster).
 */
const outageIt = testRedisMode() === 'cluster' ? it.skip : it;
const onStandalone = (redis: TestRedis): RedisServer => {
  if (!(redis instanceof RedisServer)) throw new Error('This test needs a standalone Redis');
  return redis;
};

describe('rate limits across real gateway processes on the Redis under test', () => {
  let redis: TestRedis;
  /** Fail open, 40 requests per 30 s. */
  let a: AppProcess;
  let b: AppProcess;
  /** Fail closed, 4 requests per 4 s. */
  let c: AppProcess;
  let d: AppProcess;
  let clients = 0;
  const nextIp = () => `198.18.${Math.floor(++clients / 250)}.${(clients % 250) + 1}`;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = (limit: string, fail: string) => ({
      ...redis.env,
      TRUST_PROXY: 'true',
      RATE_LIMIT_IP: limit,
      RATE_LIMIT_FAIL: fail,
    });
    [a, b, c, d] = await Promise.all([
      AppProcess.start('gateway', env('40/30', 'open')),
      AppProcess.start('gateway', env('40/30', 'open')),
      AppProcess.start('gateway', env('4/4', 'closed')),
      AppProcess.start('gateway', env('4/4', 'closed')),
    ]);
    for (const proc of [a, b, c, d]) {
      await waitFor('ready', async () => (await fetch(proc.url('/health/ready'))).status === 200);
    }
  });

  afterAll(async () => {
    await Promise.all([a, b, c, d].map((p) => p?.kill()));
    await redis?.dispose();
  });

  it('admits exactly the limit per client, out of many concurrent requests spread over two instances', async () => {
    await whileRedisAnswers([a, b], async () => {
      const ips = Array.from({ length: 5 }, nextIp);
      const tasks = ips.flatMap((ip) =>
        Array.from({ length: 120 }, (_, i) => () => hit(i % 2 ? a : b, ip)),
      );
      const hits = await concurrently(16, tasks);
      for (let n = 0; n < ips.length; n++) {
        const mine = hits.slice(n * 120, (n + 1) * 120);
        const admitted = mine.filter((h) => h.status === 200);
        expect(admitted).toHaveLength(40);
        expect(new Set(admitted.map(remaining))).toEqual(
          new Set(Array.from({ length: 40 }, (_, i) => i)),
        );
        for (const refused of mine.filter((h) => h.status !== 200)) {
          expect(refused).toMatchObject({
            status: 429,
            code: 'RATE_LIMITED',
            policy: '"ip";q=40;w=30',
          });
          expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(29);
          expect(Number(refused.retryAfter)).toBeLessThanOrEqual(30);
        }
      }
    });
  });

  it('sends RateLimit-Policy and RateLimit with the shared count, and Retry-After on a 429', async () => {
    await whileRedisAnswers([a, b], async () => {
      const ip = nextIp();
      const first = await hit(a, ip);
      expect(first).toMatchObject({
        status: 200,
        policy: '"ip";q=40;w=30',
        state: '"ip";r=39;t=30',
        retryAfter: null,
      });
      const second = await hit(b, ip);
      expect(second.state).toMatch(/^"ip";r=38;t=(29|30)$/);
      for (let i = 0; i < 38; i++) await hit(i % 2 ? a : b, ip);
      const refused = await hit(a, ip);
      expect(refused.status).toBe(429);
      expect(refused.state).toMatch(/^"ip";r=0;t=(\d+)$/);
      expect(refused.retryAfter).toBe(/t=(\d+)$/.exec(refused.state!)![1]);
    });
  });

  it('slides: as old requests age out, new ones pass one by one, never a whole window at a boundary', async () => {
    await whileRedisAnswers([c, d], async () => {
      const ip = nextIp();
      // Two requests now, two 2 s later: the limit (4 per 4 s) is reached.
      expect((await Promise.all([hit(c, ip), hit(d, ip)])).map((h) => h.status)).toEqual([
        200, 200,
      ]);
      const started = Date.now();
      const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
      await at(2000);
      expect((await Promise.all([hit(d, ip), hit(c, ip)])).map((h) => h.status)).toEqual([
        200, 200,
      ]);
      const refused = await hit(c, ip);
      expect(refused).toMatchObject({ status: 429, retryAfter: '2' });

      // When the first two age out, exactly two more pass, on either instance.
      await at(4200);
      const burst = await Promise.all([hit(c, ip), hit(d, ip), hit(c, ip), hit(d, ip)]);
      expect(burst.filter((h) => h.status === 200)).toHaveLength(2);
      expect(burst.filter((h) => h.status === 429)).toHaveLength(2);
      // ... and the next ones only when the pair from 2 s ages out.
      await at(6200);
      const later = await Promise.all([hit(d, ip), hit(c, ip), hit(d, ip)]);
      expect(later.filter((h) => h.status === 200)).toHaveLength(2);
    });
  });

  outageIt(
    'Redis stopped mid-run: fail open answers from memory, fail closed answers 503, at once; both recover by themselves',
    async () => {
      const server = onStandalone(redis);
      const pids = [a.pid, b.pid, c.pid, d.pid];
      const outageClient = nextIp();
      const log: { app: 'open' | 'closed'; phase: string; ip?: string; hit: Hit }[] = [];
      let phase = 'before';
      let running = true;
      const loop = async (app: 'open' | 'closed', proc: AppProcess, fixedIp?: string) => {
        // The fixed client calls only while Redis is down.
        while (running && (!fixedIp || phase === 'down')) {
          log.push({ app, phase, ip: fixedIp, hit: await hit(proc, fixedIp ?? nextIp()) });
        }
      };
      const loops = [loop('open', a), loop('open', b), loop('closed', c), loop('closed', d)];
      try {
        await sleep(300);
        phase = 'down';
        await server.stop();
        // A client that goes on calling one instance through the outage, past its limit.
        loops.push(loop('open', a, outageClient));
        await sleep(1500);
        phase = 'restarting';
        await server.restart();
        phase = 'back';
        // Both policies recover without a restart: the closed instances serve again and the
        // open ones share counts through Redis again.
        await waitFor(
          'the closed instances to serve again',
          async () =>
            (await hit(c, nextIp())).status === 200 && (await hit(d, nextIp())).status === 200,
          15_000,
        );
        await waitFor(
          'the open instances to share counts again',
          async () => {
            const ip = nextIp();
            await hit(a, ip);
            return remaining(await hit(b, ip)) === 38;
          },
          15_000,
        );
      } finally {
        running = false;
        await Promise.all(loops);
      }

      const down = log.filter((l) => l.phase === 'down');
      const open = down.filter((l) => l.app === 'open').map((l) => l.hit);
      const closed = down.filter((l) => l.app === 'closed').map((l) => l.hit);
      expect(open.length).toBeGreaterThan(50);
      expect(closed.length).toBeGreaterThan(50);
      // Fail open: requests still limited, in process, never an error: the client calling
      // through the outage got exactly its limit from that instance.
      expect(new Set(open.map((h) => h.status))).toEqual(new Set([200, 429]));
      const outageHits = down.filter((l) => l.ip === outageClient).map((l) => l.hit);
      expect(outageHits.length).toBeGreaterThan(45);
      expect(outageHits.filter((h) => h.status === 200)).toHaveLength(40);
      // Fail closed: 503 UNAVAILABLE, with a hint when to retry.
      const unavailable = closed.filter((h) => h.status === 503);
      expect(unavailable.length).toBeGreaterThan(closed.length * 0.9);
      for (const h of unavailable)
        expect(h).toMatchObject({ code: 'UNAVAILABLE', retryAfter: '1' });
      // No request waited on the missing Redis: not at the moment it went, nor after.
      expectPromptAnswers(down.map((l) => l.hit.ms));
      expectPromptAnswers(log.filter((l) => l.phase !== 'down').map((l) => l.hit.ms));

      // Nothing from the outage was replayed into Redis after the reconnect: the client
      // that kept calling during the outage starts afresh in the restarted (empty) Redis.
      const first = await hit(a, outageClient);
      expect(first.state).toBe('"ip";r=39;t=30');
      expect([a.pid, b.pid, c.pid, d.pid]).toEqual(pids);
      for (const proc of [a, b, c, d]) {
        expect((await fetch(proc.url('/health/ready'))).status).toBe(200);
      }
    },
  );

  outageIt(
    'a Redis that stops answering costs a request at most tens of ms, and is used again when it answers',
    async () => {
      const raw = onStandalone(redis).client();
      try {
        await raw.client('PAUSE', 1500, 'ALL');
        const during = await concurrently(
          8,
          Array.from({ length: 200 }, (_, i) => () => hit(i % 2 ? a : b, nextIp())),
        );
        expect(new Set(during.map((h) => h.status))).toEqual(new Set([200]));
        // The first requests each wait the 50 ms deadline once; the rest not at all.
        expectPromptAnswers(during.map((h) => h.ms));
      } finally {
        raw.disconnect();
      }
      await waitFor(
        'the instances to share counts again',
        async () => {
          const ip = nextIp();
          await hit(a, ip);
          return remaining(await hit(b, ip)) === 38;
        },
        15_000,
      );
    },
  );
});
