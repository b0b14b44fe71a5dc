import { LockModule, LockService } from '@lattice/lock';
import { RedisService } from '@lattice/redis';
import {
  AppProcess,
  RedisCluster,
  sleep,
  waitFor,
  type RedisServer,
  startPlatform,
  type PlatformInstance,
} from '@lattice/testing';
import { getJson, signIn, signOut, signUp, type Account } from '../fixtures/presence/accounts';
import { PresenceClient } from '../fixtures/presence/presence-client';
import { LockWorker } from '../fixtures/lock/lock-worker.process';

const PREFIX = 'cf:';
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
  const body = text ? (JSON.parse(text) as { code?: string }) : {};
  const state = res.headers.get('ratelimit');
  return {
    status: res.status,
    code: body.code,
    remaining: state ? Number(/;r=(\d+);/.exec(state)?.[1]) : undefined,
  };
}

const ready = async (app: AppProcess): Promise<number> =>
  (await fetch(app.url('/health/ready')).catch(() => null))?.status ?? 0;

const logins = (members: unknown): string[] =>
  ((members ?? []) as { login: string }[]).map((m) => m.login).sort();

/**
 * A Redis Cluster of three masters, each with a replica (cluster-node-timeout
 * 1 s), under the built auth, realtime and two gateway processes: the master
 * that holds a signed-in user's session, a held lock, a presence channel and
 * a client's rate-limit count is killed (SIGKILL) while clients keep calling.
 * The apps follow the promoted replica by themselves (no restart): during the
 * gap every answer is a 200 or the contract's 503 UNAVAILABLE, and after it
 * sessions, logout, exact shared limits, locks with fencing and presence work
 * again. What was replicated before the kill (WAIT) survives it.
 */
describe('a Redis Cluster failover under traffic', () => {
  let cluster: RedisCluster;
  let auth: AppProcess;
  let realtime: AppProcess;
  let gateways: AppProcess[];
  let platform: PlatformInstance;
  let redis: RedisService;
  let locks: LockService;
  const workers: LockWorker[] = [];
  const sockets: PresenceClient[] = [];
  let clients = 0;
  const nextIp = () => `198.19.${Math.floor(++clients / 250)}.${(clients % 250) + 1}`;

  const env = () => ({
    ...cluster.env,
    KEY_PREFIX: PREFIX,
    TRUST_PROXY: 'true',
    RATE_LIMIT_IP: `${LIMIT}/60`,
    // The traffic below calls as one user for many seconds: not that limit's business.
    RATE_LIMIT_USER: '1000000/60',
    PRESENCE_HEARTBEAT_MS: '500',
    PRESENCE_TTL_MS: '10000',
  });

  beforeAll(async () => {
    cluster = await RedisCluster.start({ replicas: 1 });
    // One at a time: four apps starting at once on a small, shared machine may miss the start-up bound.
    auth = await AppProcess.start('auth', env());
    realtime = await AppProcess.start('realtime', env());
    gateways = [await AppProcess.start('gateway', env()), await AppProcess.start('gateway', env())];
    // This process takes locks too, as another instance would, through the same cluster.
    platform = await startPlatform({ env: env(), imports: [LockModule] });
    redis = platform.get(RedisService);
    locks = platform.get(LockService);
    expect(await redis.whenReady(10_000)).toBe(true);
    for (const app of [auth, realtime, ...gateways]) {
      await waitFor('ready', async () => (await ready(app)) === 200);
    }
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(workers.map((w) => w.kill()));
    await platform?.close();
    await Promise.all([auth, realtime, ...(gateways ?? [])].map((app) => app?.kill()));
    await cluster?.dispose();
  });

  /** The first name `make(n)` gives whose slot the master `on` serves. */
  async function nameOn(
    on: RedisServer,
    make: (n: number) => string,
    key = (name: string) => name,
  ) {
    for (let n = 0; ; n++) {
      if ((await cluster.masterOf(key(make(n)))) === on) return make(n);
    }
  }

  /** Waits until both gateways count in Redis (not in memory, as while Redis was away). */
  const gatewaysShareCounts = () =>
    waitFor(
      'the gateways to share counts',
      async () => {
        const ip = nextIp();
        await request(gateways[0], '/api/ping', { ip });
        return (await request(gateways[1], '/api/ping', { ip })).remaining === LIMIT - 2;
      },
      15_000,
    );

  type Phase = 'before' | 'gap' | 'after';
  interface Timed {
    phase: Phase;
    what: string;
    answer: Answer;
    /** ms since the kill when the answer came (negative before it). */
    at: number;
  }

  it('follows the promoted replica without a restart; sessions, logout, limits, locks and presence work after', async () => {
    const apps = [auth, realtime, ...gateways];
    const pids = apps.map((app) => app.pid);

    // Before: accounts and sessions; the master to kill is the one holding the first user's sessions.
    const stays: Account = await signUp(auth, 'stays');
    const leaves: Account = await signIn(auth, 'stays');
    const victim = await cluster.masterOf(`{${stays.userId}}`);

    // A lock, a presence channel and a client's rate-limit count on that same master.
    const resource = await nameOn(
      victim,
      (n) => `failover:held:${n}`,
      (r) => `{${r}}`,
    );
    const channel = await nameOn(
      victim,
      (n) => `room-${n}`,
      (c) => `{${c}}`,
    );
    const ip0 = nextIp();
    const countKey = await waitFor('a rate-limit count in Redis', async () => {
      expect((await request(gateways[0], '/api/ping', { ip: ip0 })).status).toBe(200);
      return (await cluster.keys(`${PREFIX}ratelimit:*${ip0}`))[0];
    });
    const limitedIp = await nameOn(
      victim,
      () => nextIp(),
      (ip) => countKey.replace(ip0, ip),
    );
    await gatewaysShareCounts();
    const used = [];
    for (let i = 0; i < 5; i++)
      used.push(await request(gateways[i % 2], '/api/ping', { ip: limitedIp }));
    expect(used.map((answer) => [answer.status, answer.remaining])).toEqual(
      [1, 2, 3, 4, 5].map((n) => [200, LIMIT - n]),
    );
    const held = await locks.acquire(resource, 60_000);
    const member = await PresenceClient.connect(realtime.url(''), { token: stays.token });
    sockets.push(member);
    expect((await member.join(channel)).ok).toBe(true);
    await cluster.waitForReplication();

    // Traffic on every app while the master is killed and its replica takes over.
    let running = true;
    let killedAt = Number.POSITIVE_INFINITY;
    let phase: Phase = 'before';
    const timed: Timed[] = [];
    const readiness: Timed[] = [];
    const during = async (what: string, into: Timed[], call: () => Promise<Answer>) => {
      const started = phase;
      const answer = await call();
      into.push({
        phase: started === phase ? started : 'gap',
        what,
        answer,
        at: Date.now() - killedAt,
      });
    };
    const traffic = [
      ...apps.map(async (app) => {
        while (running) {
          await during(app.app, readiness, async () => ({ status: await ready(app) }));
          await sleep(50);
        }
      }),
      (async () => {
        while (running) {
          const ip = nextIp();
          await Promise.all([
            during('me', timed, () => request(auth, '/auth/me', { ip, token: stays.token })),
            during('ping', timed, () => request(gateways[clients % 2], '/api/ping', { ip })),
            during('presence', timed, () =>
              request(gateways[(clients + 1) % 2], `/api/presence/${channel}`, {
                ip,
                token: stays.token,
              }),
            ),
            during('realtime', timed, () =>
              request(realtime, `/realtime/presence/${channel}`, { ip, token: stays.token }),
            ),
          ]);
          await sleep(20);
        }
      })(),
      (async () => {
        // Logins write a session: on a third of the slots there is no master for a while.
        while (running) {
          await during('login', timed, () =>
            request(auth, '/auth/login', {
              ip: nextIp(),
              method: 'POST',
              body: { login: 'stays', password: 'password-123' },
            }),
          );
          await sleep(50);
        }
      })(),
    ];
    let promotedAfterMs = 0;
    try {
      await sleep(500);
      phase = 'gap';
      killedAt = Date.now();
      await cluster.killMaster(victim);
      const promoted = await cluster.waitForFailover();
      promotedAfterMs = Date.now() - killedAt;
      expect(promoted.port).not.toBe(victim.port);
      expect(cluster.nodes).toContain(promoted);
      // Without a restart, every app answers on the promoted replica: a session read on its slots.
      for (const app of [auth, ...gateways]) {
        await waitFor(
          `${app.app} to read the session on the promoted replica`,
          async () =>
            (
              await getJson(
                app,
                `/${app === auth ? 'auth/me' : `api/presence/${channel}`}`,
                stays.token,
              )
            ).status === 200,
          20_000,
        );
      }
      phase = 'after';
      await sleep(500);
    } finally {
      running = false;
      await Promise.all(traffic);
    }
    expect(apps.map((app) => app.pid)).toEqual(pids);

    // During the gap every answer is a 200 or the contract's 503 UNAVAILABLE, never a 500;
    // before and after, every answer is a 200.
    const unexpected = timed.filter(({ phase: p, answer }) =>
      p === 'gap'
        ? !(answer.status === 200 || (answer.status === 503 && answer.code === 'UNAVAILABLE'))
        : answer.status !== 200,
    );
    expect(unexpected).toEqual([]);
    expect(timed.filter((t) => t.phase === 'before').length).toBeGreaterThan(0);
    expect(timed.filter((t) => t.phase === 'after').length).toBeGreaterThan(0);
    // The kill was noticed: some answers were 503 (the failover is not free).
    const refused = timed.filter((t) => t.answer.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    // Readiness: 200 before and after, nothing but 200 or 503 in between.
    expect(readiness.filter((r) => r.phase !== 'gap' && r.answer.status !== 200)).toEqual([]);
    expect(readiness.filter((r) => ![200, 503].includes(r.answer.status))).toEqual([]);
    const last503 = Math.max(...refused.map((t) => t.at));
    console.log(
      `cluster failover: replica promoted ${promotedAfterMs} ms after the kill; ` +
        `${refused.length} of ${timed.filter((t) => t.phase === 'gap').length} answers in the gap were 503, ` +
        `the first ${Math.min(...refused.map((t) => t.at))} ms and the last ${last503} ms after the kill; ` +
        `readiness: ${readiness.filter((r) => r.answer.status === 503).length} of ` +
        `${readiness.filter((r) => r.phase === 'gap').length} probes in the gap were 503`,
    );

    // Sessions: the one from before still works everywhere; new logins work.
    expect((await request(auth, '/auth/me', { ip: nextIp(), token: stays.token })).status).toBe(
      200,
    );
    expect((await getJson(gateways[1], `/api/presence/${channel}`, leaves.token)).status).toBe(200);
    const fresh = await signIn(auth, 'stays');
    expect((await getJson(gateways[0], `/api/presence/${channel}`, fresh.token)).status).toBe(200);

    // Logout still ends the session everywhere: auth, both gateways, a new socket.
    await signOut(auth, leaves);
    expect((await getJson(auth, '/auth/me', leaves.token)).status).toBe(401);
    for (const gateway of gateways) {
      expect((await getJson(gateway, `/api/presence/${channel}`, leaves.token)).status).toBe(401);
    }
    await expect(
      PresenceClient.connect(realtime.url(''), { token: leaves.token }),
    ).rejects.toMatchObject({ message: 'UNAUTHENTICATED' });

    // Presence: the member who joined before is listed on the promoted replica; a
    // newcomer's join is listed at once, and so is its leave.
    const list = await getJson(gateways[0], `/api/presence/${channel}`, fresh.token);
    expect(logins(list.body.members)).toEqual(['stays']);
    const other = await signUp(auth, 'joins');
    const newcomer = await PresenceClient.connect(realtime.url(''), { token: other.token });
    sockets.push(newcomer);
    expect((await newcomer.join(channel)).ok).toBe(true);
    expect(
      logins((await getJson(gateways[1], `/api/presence/${channel}`, fresh.token)).body.members),
    ).toEqual(['joins', 'stays']);
    expect(await newcomer.emit('presence:leave', { channel })).toEqual({ ok: true });
    expect(
      logins((await getJson(gateways[0], `/api/presence/${channel}`, fresh.token)).body.members),
    ).toEqual(['stays']);

    // Rate limits: the count from before survived on the promoted replica (5 used), and the
    // two gateways share it exactly: LIMIT - 5 more answers, then 429.
    // A gateway that counted in memory during the gap (fail open) goes back to Redis after a probe.
    await gatewaysShareCounts();
    const statuses: number[] = [];
    for (let i = 5; i <= LIMIT; i++) {
      statuses.push((await request(gateways[i % 2], '/api/ping', { ip: limitedIp })).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT - 5);
    expect(statuses[statuses.length - 1]).toBe(429);

    // Locks: the lease from before survived (replicated) and is still this holder's to release;
    // another process then takes the resource with a larger token, and only it holds it.
    await expect(locks.acquire(resource, 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
    });
    expect(await held.release()).toEqual({ released: true });
    const worker = LockWorker.start('hold', 'after', {
      ...env(),
      RESOURCE: resource,
      TTL_MS: '1000',
    });
    workers.push(worker);
    const holding = await worker.next('holding');
    expect(BigInt(holding.token as string)).toBeGreaterThan(held.token);
    await expect(locks.acquire(resource, 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
    });
    await worker.kill();
    const next = await locks.acquire(resource, 5000, { retryCount: 200, retryDelayMs: 50 });
    expect(next.token).toBeGreaterThan(BigInt(holding.token as string));
    expect(await next.release()).toEqual({ released: true });

    // Registrations (under a lock, on any slot) work.
    expect((await signUp(auth, 'after')).login).toBe('after');
  });
});
