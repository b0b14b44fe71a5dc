import { LockModule, LockService } from '@lattice/lock';
import { RedisService } from '@lattice/redis';
import {
  AppProcess,
  SentinelGroup,
  sleep,
  waitFor,
  startPlatform,
  type PlatformInstance,
} from '@lattice/testing';
import { LockWorker } from '../fixtures/lock/lock-worker.process';

const PREFIX = 'sf:';
const LIMIT = 20;

interface Answer {
  status: number;
  code?: string;
  remaining?: number;
}

async function request(
  app: AppProcess,
  path: string,
  options: { ip: string; token?: string; method?: string; body?: unknown },
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-forwarded-for': options.ip };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(app.url(path), {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  }).catch(() => null);
  if (!res) return { status: 0 };
  const text = await res.text();
  const body = text ? (JSON.parse(text) as { code?: string; token?: string }) : {};
  const state = res.headers.get('ratelimit');
  return {
    status: res.status,
    code: body.code,
    remaining: state ? Number(/;r=(\d+);/.exec(state)?.[1]) : undefined,
  };
}

const ready = async (app: AppProcess): Promise<number> =>
  (await fetch(app.url('/health/ready')).catch(() => null))?.status ?? 0;

/**
 * A Sentinel deployment (master, replica, three Sentinels) under the built
 * auth app and two gateways: the master is killed while clients keep calling.
 * The apps follow the promoted replica by themselves (no restart), readiness
 * answers 503 for the gap and 200 after it, and sessions, shared rate limits
 * and locks work again. What was replicated before the failover (WAIT)
 * survives it: the session, the account, a lock and its fencing counter.
 */
describe('a Sentinel failover under traffic', () => {
  let group: SentinelGroup;
  let auth: AppProcess;
  let gateways: AppProcess[];
  let platform: PlatformInstance;
  let redis: RedisService;
  let locks: LockService;
  const workers: LockWorker[] = [];
  let clients = 0;
  const nextIp = () => `198.19.${Math.floor(++clients / 250)}.${(clients % 250) + 1}`;

  const env = () => ({
    ...group.env,
    KEY_PREFIX: PREFIX,
    TRUST_PROXY: 'true',
    RATE_LIMIT_IP: `${LIMIT}/60`,
    // The traffic below calls as one user for many seconds: not that limit's business.
    RATE_LIMIT_USER: '1000000/60',
  });

  const register = (login: string) =>
    request(auth, '/auth/register', {
      ip: nextIp(),
      method: 'POST',
      body: { login, name: login, password: 'password-123' },
    });
  const login = async (name: string): Promise<string> => {
    const res = await fetch(auth.url('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': nextIp() },
      body: JSON.stringify({ login: name, password: 'password-123' }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };

  beforeAll(async () => {
    group = await SentinelGroup.start();
    [auth, ...gateways] = await Promise.all([
      AppProcess.start('auth', env()),
      AppProcess.start('gateway', env()),
      AppProcess.start('gateway', env()),
    ]);
    // This process takes locks too, as another instance would, through the same Sentinels.
    platform = await startPlatform({ env: env(), imports: [LockModule] });
    redis = platform.get(RedisService);
    locks = platform.get(LockService);
    expect(await redis.whenReady(10_000)).toBe(true);
    for (const app of [auth, ...gateways]) {
      await waitFor('ready', async () => (await ready(app)) === 200);
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await platform?.close();
    await Promise.all([auth, ...(gateways ?? [])].map((app) => app?.kill()));
    await group?.dispose();
  });

  type Phase = 'before' | 'gap' | 'after';
  interface Watched {
    /** Per app (auth, gateway, gateway): its readiness answers. */
    readiness: { phase: Phase; status: number }[][];
    answers: { phase: Phase; what: string; answer: Answer }[];
  }

  /**
   * Clients calling (session checks, pings, presence reads, logins) and
   * readiness probes on every app while `change` runs; each answer is filed
   * under the phase it started and ended in ('gap' when it straddled one).
   * `change` calls `gap()` when the disruption starts and resolves when the
   * apps are back; traffic goes on for half a second after.
   */
  async function underTraffic(
    token: string,
    change: (gap: () => void) => Promise<void>,
  ): Promise<Watched> {
    const apps = [auth, ...gateways];
    let running = true;
    let phase: Phase = 'before';
    const during = async <T>(call: () => Promise<T>): Promise<[Phase, T]> => {
      const started = phase;
      const result = await call();
      return [started === phase ? started : 'gap', result];
    };
    const watched: Watched = { readiness: apps.map(() => []), answers: [] };
    const traffic = [
      ...apps.map(async (app, i) => {
        while (running) {
          const [when, status] = await during(() => ready(app));
          watched.readiness[i].push({ phase: when, status });
          await sleep(50);
        }
      }),
      (async () => {
        while (running) {
          const ip = nextIp();
          const [when, [me, ping, presence]] = await during(() =>
            Promise.all([
              request(auth, '/auth/me', { ip, token }),
              request(gateways[clients % 2], '/api/ping', { ip }),
              request(gateways[(clients + 1) % 2], '/api/presence/lobby', { ip, token }),
            ]),
          );
          watched.answers.push({ phase: when, what: 'me', answer: me });
          watched.answers.push({ phase: when, what: 'ping', answer: ping });
          watched.answers.push({ phase: when, what: 'presence', answer: presence });
          await sleep(20);
        }
      })(),
      (async () => {
        // Logins write a session: a write while there is no master.
        while (running) {
          const [when, answer] = await during(() =>
            request(auth, '/auth/login', {
              ip: nextIp(),
              method: 'POST',
              body: { login: 'before', password: 'password-123' },
            }),
          );
          watched.answers.push({ phase: when, what: 'login', answer });
          await sleep(50);
        }
      })(),
    ];
    try {
      await sleep(500);
      await change(() => (phase = 'gap'));
      // Without a restart, every app is ready again on the promoted replica.
      for (const app of apps) {
        await waitFor(`${app.app} ready again`, async () => (await ready(app)) === 200, 20_000);
      }
      phase = 'after';
      await sleep(500);
    } finally {
      running = false;
      await Promise.all(traffic);
    }
    return watched;
  }

  /**
   * Before and after, every answer is a 200; during the gap either a 200 (the
   * rate limiter answers in process, fail open; the session cache) or the
   * contract's 503 UNAVAILABLE, never a 500.
   */
  function expectNoErrorsBut503InTheGap({ answers }: Watched): void {
    const unexpected = answers.filter(({ phase, answer }) =>
      phase === 'gap'
        ? !(answer.status === 200 || (answer.status === 503 && answer.code === 'UNAVAILABLE'))
        : answer.status !== 200,
    );
    expect(unexpected).toEqual([]);
    expect(answers.filter((a) => a.phase === 'before').length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.phase === 'after').length).toBeGreaterThan(0);
  }

  let token: string;
  let heldToken: bigint;

  it('follows the new master without a restart; readiness shows the gap; sessions, limits and locks work after', async () => {
    const apps = [auth, ...gateways];
    const pids = apps.map((app) => app.pid);

    // Before: an account, a session and a lock, replicated to the replica.
    expect((await register('before')).status).toBe(201);
    token = await login('before');
    const held = await locks.acquire('failover:held', 60_000);
    await group.waitForReplication();

    const watched = await underTraffic(token, async (gap) => {
      gap();
      const killed = await group.killMaster();
      const promoted = await group.waitForFailover();
      expect(promoted.port).not.toBe(killed.port);
    });
    expect(apps.map((app) => app.pid)).toEqual(pids);
    const { readiness } = watched;

    // Readiness: 200 before, 503 during the gap (every app saw it), 200 after.
    for (const probes of readiness) {
      expect(probes.filter((p) => p.phase === 'before').map((p) => p.status)).not.toContain(503);
      expect(probes.filter((p) => p.phase === 'gap').map((p) => p.status)).toContain(503);
      const after = probes.filter((p) => p.phase === 'after');
      expect(after.length).toBeGreaterThan(0);
      expect(new Set(after.map((p) => p.status))).toEqual(new Set([200]));
    }
    expectNoErrorsBut503InTheGap(watched);

    // Sessions: the one from before is still valid (it was replicated), and new ones work.
    expect((await request(auth, '/auth/me', { ip: nextIp(), token })).status).toBe(200);
    const fresh = await login('before');
    expect(
      (await request(gateways[0], '/api/presence/lobby', { ip: nextIp(), token: fresh })).status,
    ).toBe(200);

    // Rate limits are shared through Redis again: alternating between the two gateways,
    // one client gets exactly LIMIT answers (in-process limits would let it have more).
    await waitFor(
      'the gateways to share counts again',
      async () => {
        const ip = nextIp();
        await request(gateways[0], '/api/ping', { ip });
        return (await request(gateways[1], '/api/ping', { ip })).remaining === LIMIT - 2;
      },
      15_000,
    );
    const ip = nextIp();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      statuses.push((await request(gateways[i % 2], '/api/ping', { ip })).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses[LIMIT]).toBe(429);

    // Accounts are created under a lock (auth's registration), and logins work.
    expect((await register('after')).status).toBe(201);
    expect((await register('AFTER')).status).toBe(409);
    await login('after');

    // Locks: the lease taken before the failover survived it (replicated) and is still
    // this holder's to release; another process then takes the resource with a larger token.
    await expect(locks.acquire('failover:held', 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
    });
    expect(await held.release()).toEqual({ released: true });
    const worker = LockWorker.start('hold', 'after', {
      ...env(),
      RESOURCE: 'failover:held',
      TTL_MS: '1000',
    });
    workers.push(worker);
    const holding = await worker.next('holding');
    expect(BigInt(holding.token as string)).toBeGreaterThan(held.token);
    await expect(locks.acquire('failover:held', 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
    });
    await worker.kill();
    const next = await locks.acquire('failover:held', 5000, { retryCount: 200, retryDelayMs: 50 });
    expect(next.token).toBeGreaterThan(BigInt(holding.token as string));
    expect(await next.release()).toEqual({ released: true });
    heldToken = next.token;
  });

  it('follows a planned switchover too, where the old master stays up and answers writes with READONLY', async () => {
    // The killed master comes back empty; the Sentinels make it a replica of the new one.
    await group.reviveKilled();
    const before = group.master;
    const watched = await underTraffic(token, async (gap) => {
      gap();
      const promoted = await group.switchover();
      expect(promoted.port).not.toBe(before.port);
    });
    expectNoErrorsBut503InTheGap(watched);

    // The demoted master is a replica now: what it refuses, the apps no longer send it.
    const old = before.client();
    try {
      await expect(old.set(`${PREFIX}probe`, '1')).rejects.toThrow(/^READONLY/);
    } finally {
      old.disconnect();
    }
    expect((await request(auth, '/auth/me', { ip: nextIp(), token })).status).toBe(200);
    expect((await register('switched')).status).toBe(201);
    await login('switched');
    const lock = await locks.acquire('failover:held', 5000);
    expect(lock.token).toBeGreaterThan(heldToken);
    expect(await lock.release()).toEqual({ released: true });
  });
});
