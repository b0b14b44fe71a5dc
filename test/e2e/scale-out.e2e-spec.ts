import { sleep, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { EchoUpstream } from '../fixtures/gateway/echo-upstream';
import { memberOf, PresenceClient, type Member } from '../fixtures/presence/presence-client';
import { FakeGithub } from '../fixtures/prize-draw/fake-github';
import { EdgeClient, remainingOf, type Answer } from '../fixtures/scale-out/edge-client';
import { Fleet } from '../fixtures/scale-out/fleet';

jest.setTimeout(120_000);

const INSTANCES = 3;
const PREFIX = 'scale:';
const ADMIN = { login: 'root', password: 'root-password-1' };
const PASSWORD = 'password-123';
const HEARTBEAT_MS = 250;
const PRESENCE_TTL_MS = 1500;
/** The gateways' RATE_LIMIT_USER and RATE_LIMIT_IP (per 60 s), small enough to reach. */
const USER_LIMIT = 40;
const IP_LIMIT = 40;
/** The `rateLimit` of the ROUTES entry /metered (per 60 s). */
const ROUTE_LIMIT = 8;
/** RATE_LIMIT_LOGIN's default (10 per 300 s), enforced by the auth instances. */
const LOGIN_LIMIT = 10;

interface Account {
  id: string;
  login: string;
  token: string;
  sessionId: string;
}
interface LoginAnswer {
  token: string;
  user: { id: string; login: string; roles: string[] };
  session: { id: string };
}
interface Winner {
  name: string;
  prize: string;
  image: string;
}
interface Listing {
  channel: string;
  members: Member[];
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = <T>(values: T[]): T[] => [...values].sort();
const statusAndCode = (answer: Answer) => [answer.status, answer.body.code];
/** What each admitted request was told remained of `policy`, in ascending order. */
const remainders = (answers: Answer[], policy: string) =>
  answers.map((a) => remainingOf(a.headers, policy) ?? -1).sort((a, b) => a - b);

/**
 * Many instances (issue 11, point 3): three auth, three realtime and three
 * gateway processes over one Redis (a standalone redis-server, or a cluster
 * of three masters in the e2e-cluster project). Gateway i forwards to auth i
 * and realtime i only, so the instances share nothing but Redis. Clients
 * talk to the gateways alone, spreading concurrent requests round-robin over
 * them, and every test checks one feature's invariant with exact counts:
 * nothing admitted over a limit, no double holder, no lost or stale presence,
 * no lost account.
 *
 * Each test speaks from a client address of its own (X-Forwarded-For; the
 * gateways trust it as if a load balancer stood in front of them), so the
 * per-address limits of one test never eat into another's.
 */
describe('three instances of every app over one Redis, driven through the gateways', () => {
  let redis: TestRedis;
  let raw: ReturnType<TestRedis['client']>;
  let upstream: EchoUpstream;
  let github: FakeGithub;
  let fleet: Fleet;
  const sockets: PresenceClient[] = [];
  let addresses = 0;
  const entrants = range(18).map((i) => `entrant-${i}`);

  /** A client of the gateways with an address of its own. */
  const client = () => {
    const n = ++addresses;
    return new EdgeClient(fleet.gateways, `198.51.${100 + Math.floor(n / 250)}.${(n % 250) + 1}`);
  };
  const signIn = async (edge: EdgeClient, login: string, via?: number): Promise<Account> => {
    const res = await edge.post<LoginAnswer>('/auth/login', {
      via,
      body: { login, password: PASSWORD },
    });
    if (res.status !== 200)
      throw new Error(`login ${login}: ${res.status} ${JSON.stringify(res.body)}`);
    const { token, user, session } = res.body;
    return { id: user.id, login, token, sessionId: session.id };
  };
  const signUp = async (edge: EdgeClient, login: string, via?: number): Promise<Account> => {
    const res = await edge.post('/auth/register', {
      via,
      body: { login, name: `${login} name`, password: PASSWORD },
    });
    if (res.status !== 201)
      throw new Error(`register ${login}: ${res.status} ${JSON.stringify(res.body)}`);
    return signIn(edge, login, via);
  };
  /** A draw key as other programs read it; on a cluster the draw id is its hash tag (README). */
  const drawKey = (id: string, name: string) =>
    redis.mode === 'cluster'
      ? `${PREFIX}prizedraw:{${id}}:${name}`
      : `${PREFIX}prizedraw:${id}:${name}`;
  /** Ids of the account profiles `user:<id>` (and of their password keys) in Redis. */
  // On a cluster an account's private keys share its profile's slot: `<prefix>{<prefix>user:<id>}:password`.
  const accountIds = async (suffix = ''): Promise<string[]> => {
    const pattern = new RegExp(`^${PREFIX}(?:\\{${PREFIX})?user:(\\d+)\\}?${suffix}$`);
    const keys = [
      ...(await redis.keys(`${PREFIX}user:*`)),
      ...(await redis.keys(`${PREFIX}{${PREFIX}user:*`)),
    ];
    return sorted(keys.map((key) => pattern.exec(key)?.[1]).filter((id) => id !== undefined));
  };

  beforeAll(async () => {
    [redis, upstream, github] = await Promise.all([
      startTestRedis(),
      EchoUpstream.start(),
      FakeGithub.start(entrants.map((login) => ({ login }))),
    ]);
    raw = redis.client();
    fleet = await Fleet.start(INSTANCES, {
      common: {
        ...redis.env,
        KEY_PREFIX: PREFIX,
        // Auth and realtime are reached only through the gateways; the gateways stand behind
        // a load balancer (the test's clients, which say who they are in X-Forwarded-For).
        TRUST_PROXY: 'true',
        ADMIN_LOGIN: ADMIN.login,
        ADMIN_PASSWORD: ADMIN.password,
        GITHUB_API_URL: github.url,
        PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
        PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
      },
      gateway: {
        // Small limits at the edge only; auth and realtime keep their defaults. Every app counts
        // a user (or an address) in the same log per policy, whichever app admitted the request,
        // so the gateways' limits also see what auth and realtime admitted: each test keeps the
        // users whose gateway requests it counts apart from the ones it polls auth or realtime with.
        RATE_LIMIT_USER: `${USER_LIMIT}/60`,
        RATE_LIMIT_IP: `${IP_LIMIT}/60`,
        ROUTES: JSON.stringify([
          {
            prefix: '/metered',
            upstream: upstream.url,
            auth: 'required',
            rateLimit: `${ROUTE_LIMIT}/60`,
          },
          { prefix: '/members', upstream: upstream.url, auth: 'required' },
          { prefix: '/open', upstream: upstream.url, auth: 'none' },
        ]),
      },
    });
    // The admin account is made at start-up, by one of the three auth instances.
    await waitFor('the admin account', () => raw.hget(`${PREFIX}users:`, ADMIN.login));
  });

  afterAll(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    raw?.disconnect();
    await fleet?.dispose();
    await Promise.all([upstream?.close(), github?.close()]);
    await redis?.dispose();
  });

  /*
   * Locks ("no double holder"): no HTTP route of the apps takes a lock but registration,
   * which creates an account under a lock on the lower-cased login (AccountsService.register;
   * AdminBootstrap's run-once is the only other user, at start-up). The race below is
   * therefore also the lock's end-to-end test: see the ids check at its end.
   */
  it('creates exactly one account per login when the gateways race to register it, and loses none', async () => {
    const edge = client();
    const bases = range(15).map((i) => `racer${String(i).padStart(2, '0')}`);
    const spellings = (base: string) => [
      base,
      base.toUpperCase(),
      `R${base.slice(1)}`,
      [...base].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join(''),
    ];
    // Every login three times at once, spelt differently, through three gateways; some four times.
    const attempts = bases.flatMap((base, i) =>
      spellings(base)
        .slice(0, i % 3 === 0 ? 4 : 3)
        .map((login, k) => ({ base, login, via: (i + k) % INSTANCES })),
    );
    const answers = await Promise.all(
      attempts.map(({ base, login, via }) =>
        edge.post<{ id: string; login: string; name: string; code?: string }>('/auth/register', {
          via,
          body: { login, name: `Racer ${login}`, password: `${base}-password` },
        }),
      ),
    );

    const createdPerLogin = bases.map(
      (base) => answers.filter((a, i) => attempts[i].base === base && a.status === 201).length,
    );
    expect(createdPerLogin).toEqual(bases.map(() => 1));
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(attempts.length - bases.length);
    expect(refused.map(statusAndCode)).toEqual(refused.map(() => [409, 'CONFLICT']));

    const created = new Map<string, { id: string; login: string }>();
    answers.forEach((answer, i) => {
      if (answer.status !== 201) return;
      const { base, login } = attempts[i];
      expect(answer.body).toMatchObject({ login, name: `Racer ${login}` });
      created.set(base, { id: answer.body.id, login });
    });
    const ids = [...created.values()].map((c) => c.id);
    expect(new Set(ids).size).toBe(bases.length);

    // Every account signs in through every gateway (the login in yet another case).
    const logins = await Promise.all(
      bases.flatMap((base) =>
        range(INSTANCES).map((via) =>
          edge.post<LoginAnswer>('/auth/login', {
            via,
            body: { login: base.toUpperCase(), password: `${base}-password` },
          }),
        ),
      ),
    );
    expect(logins.map((l) => [l.status, l.body.user?.id, l.body.user?.login])).toEqual(
      bases.flatMap((base) =>
        range(INSTANCES).map(() => [200, created.get(base)!.id, created.get(base)!.login]),
      ),
    );

    // Contract 7, as another program reads it: `users:` holds exactly the logins that got 201.
    const users = await raw.hgetall(`${PREFIX}users:`);
    const racers = Object.entries(users).filter(([login]) => login.startsWith('racer'));
    expect(Object.fromEntries(racers)).toEqual(
      Object.fromEntries(bases.map((base) => [base, created.get(base)!.id])),
    );
    for (const { id, login } of created.values()) {
      expect(await raw.hget(`${PREFIX}user:${id}`, 'login')).toBe(login);
    }
    // Nothing of a losing attempt is left: every profile and password belongs to a claimed login.
    expect(await accountIds()).toEqual(sorted(Object.values(users)));
    expect(await accountIds(':password')).toEqual(sorted(Object.values(users)));
    // No double holder: under the login lock, only the attempt that finds the login free takes
    // an id (INCR user:id:), so ids are handed out exactly once per account, with no gap. Two
    // holders at once would both take one, and the loser's id would be a gap (the final HSETNX
    // keeps the 201s right even then, so the counts above alone would not show it).
    expect(await raw.get(`${PREFIX}user:id:`)).toBe(String(Object.keys(users).length));
    expect(
      Object.values(users)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(range(Object.keys(users).length).map((i) => i + 1));
    // Every login lock was taken (its fence exists) and given back (no lease is left).
    for (const base of bases) {
      expect(await raw.exists(`${PREFIX}lock:{user:${base}}:fence`)).toBe(1);
      expect(await raw.exists(`${PREFIX}lock:{user:${base}}`)).toBe(0);
    }
  });

  it('creates the admin account exactly once although three auth instances started together', async () => {
    const edge = client();
    const adminId = await raw.hget(`${PREFIX}users:`, ADMIN.login);
    expect(adminId).toMatch(/^\d+$/);
    const named: string[] = [];
    for (const id of await accountIds()) {
      const login = await raw.hget(`${PREFIX}user:${id}`, 'login');
      if (login?.toLowerCase() === ADMIN.login) named.push(id);
    }
    expect(named).toEqual([adminId]);
    const answers = await Promise.all(
      range(INSTANCES).map((via) => edge.post<LoginAnswer>('/auth/login', { via, body: ADMIN })),
    );
    expect(answers.map((a) => [a.status, a.body.user.id, a.body.user.roles])).toEqual(
      range(INSTANCES).map(() => [200, adminId, ['admin']]),
    );
  });

  it('honours a session on every instance at once, and refuses it everywhere from the request after a logout', async () => {
    const edge = client();
    // Each instance checks sessions on its own: the auth app (/auth/me), the gateway's own
    // routes (/api/presence) and the gateway's edge for ROUTES (/members, auth: required).
    // A refused token counts as an anonymous request: each probe comes from an address of its own.
    const probe = (token: string) => {
      const from = client();
      return Promise.all(
        range(INSTANCES).flatMap((via) => [
          from.get('/auth/me', { via, token }),
          from.get('/api/presence/session-check', { via, token }),
          from.get('/members/session-check', { via, token }),
        ]),
      );
    };
    const everywhere = (status: number, code?: string) =>
      range(INSTANCES * 3).map(() => (code ? [status, code] : [status, undefined]));

    // A session made through gateway i works on all three at once (and so sits in each
    // instance's session cache); a logout through the next gateway ends it on all of them.
    // (All of alice's requests, to every app, stay under USER_LIMIT: 11 a round.)
    const alice = await signUp(edge, 'session-alice', 0);
    for (let round = 0; round < INSTANCES; round++) {
      const session = await signIn(edge, alice.login, round);
      expect((await probe(session.token)).map(statusAndCode)).toEqual(everywhere(200));
      const me = await edge.get<{ user: { id: string } }>('/auth/me', {
        via: (round + 2) % INSTANCES,
        token: session.token,
      });
      expect(me.body.user.id).toBe(alice.id);
      const out = await edge.post('/auth/logout', {
        via: (round + 1) % INSTANCES,
        token: session.token,
      });
      expect(out.status).toBe(204);
      expect((await probe(session.token)).map(statusAndCode)).toEqual(
        everywhere(401, 'UNAUTHENTICATED'),
      );
    }
    // Only the probes before each logout reached the upstream: one per gateway and round.
    expect(upstream.seen.filter((s) => s.headers['x-user-id'] === alice.id)).toHaveLength(
      INSTANCES * INSTANCES,
    );

    // Three sessions of one user, one per gateway; logout-all on one instance ends all three.
    const bob = await signUp(edge, 'session-bob', 0);
    const tokens = [
      bob.token,
      ...(await Promise.all([1, 2].map((via) => signIn(edge, bob.login, via)))).map((s) => s.token),
    ];
    const listed = await edge.get<{ id: string }[]>('/auth/sessions', { via: 1, token: tokens[2] });
    expect(listed.body).toHaveLength(3);
    for (const token of tokens) {
      expect((await probe(token)).map(statusAndCode)).toEqual(everywhere(200));
    }
    expect((await edge.post('/auth/logout-all', { via: 2, token: tokens[0] })).status).toBe(204);
    const after = await Promise.all(tokens.map(probe));
    expect(after.map((answers) => answers.map(statusAndCode))).toEqual(
      tokens.map(() => everywhere(401, 'UNAUTHENTICATED')),
    );
    // Each logout answered once every instance had confirmed it, none by giving up waiting.
    expect(fleet.logs()).not.toContain('did not confirm a revocation');
  });

  it(`admits exactly ${ROUTE_LIMIT} requests to a route limited to ${ROUTE_LIMIT}/60, however one user spreads them over the gateways`, async () => {
    const edge = client();
    const carol = await signUp(edge, 'limit-carol');
    const answers = await Promise.all(
      range(30).map((i) => edge.get(`/metered/${i}`, { token: carol.token })),
    );
    expect(new Set(answers.map((a) => a.via)).size).toBe(INSTANCES);
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(admitted).toHaveLength(ROUTE_LIMIT);
    expect(refused.map(statusAndCode)).toEqual(refused.map(() => [429, 'RATE_LIMITED']));
    for (const answer of refused) {
      expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(answer.headers.get('ratelimit-policy')).toBe(
        `"user";q=${USER_LIMIT};w=60, "route.metered";q=${ROUTE_LIMIT};w=60`,
      );
    }
    // Every admission saw a different count: what remained was 7, 6, ... 0, once each.
    expect(remainders(admitted, 'route.metered')).toEqual(range(ROUTE_LIMIT));
    const reached = upstream.seen.filter((s) => s.url.startsWith('/metered/'));
    expect(reached).toHaveLength(ROUTE_LIMIT);
    expect(reached.every((s) => s.headers['x-user-id'] === carol.id)).toBe(true);
  });

  it(`admits exactly ${USER_LIMIT} requests of one signed-in user in all, the gateway's own routes and ROUTES together`, async () => {
    const edge = client();
    const dave = await signUp(edge, 'limit-dave');
    const paths = range(60).map((i) => (i % 2 ? `/members/${i}` : '/api/ping'));
    const answers = await Promise.all(paths.map((path) => edge.get(path, { token: dave.token })));
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(admitted).toHaveLength(USER_LIMIT);
    expect(refused.map(statusAndCode)).toEqual(refused.map(() => [429, 'RATE_LIMITED']));
    for (const answer of refused) {
      expect(answer.headers.get('ratelimit-policy')).toBe(`"user";q=${USER_LIMIT};w=60`);
    }
    expect(remainders(admitted, 'user')).toEqual(range(USER_LIMIT));
    const forwarded = answers.filter((a, i) => a.status === 200 && paths[i] !== '/api/ping');
    expect(upstream.seen.filter((s) => s.headers['x-user-id'] === dave.id)).toHaveLength(
      forwarded.length,
    );
  });

  it(`admits exactly ${IP_LIMIT} anonymous requests from one address in all, and no fewer from another`, async () => {
    const edge = client();
    const paths = range(60).map((i) => (i % 2 ? `/open/${i}` : '/api/ping'));
    const answers = await Promise.all(paths.map((path) => edge.get(path)));
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(admitted).toHaveLength(IP_LIMIT);
    expect(refused.map(statusAndCode)).toEqual(refused.map(() => [429, 'RATE_LIMITED']));
    for (const answer of refused) {
      expect(answer.headers.get('ratelimit-policy')).toBe(`"ip";q=${IP_LIMIT};w=60`);
    }
    expect(remainders(admitted, 'ip')).toEqual(range(IP_LIMIT));
    // The limit is the address's: another one is admitted on every gateway.
    const other = client();
    const theirs = await Promise.all(
      range(INSTANCES).map((via) => other.get('/api/ping', { via })),
    );
    expect(theirs.map((a) => a.status)).toEqual([200, 200, 200]);
  });

  it(`lets ${LOGIN_LIMIT} login attempts for one login and address through, counted across the auth instances`, async () => {
    const edge = client();
    expect(
      (
        await edge.post('/auth/register', {
          body: { login: 'limit-erin', name: 'Erin', password: PASSWORD },
        })
      ).status,
    ).toBe(201);
    const answers = await Promise.all(
      range(25).map(() =>
        edge.post('/auth/login', { body: { login: 'limit-erin', password: 'wrong-password' } }),
      ),
    );
    expect(new Set(answers.map((a) => a.via)).size).toBe(INSTANCES);
    const codes = answers.map((a) => a.body.code);
    expect(codes.filter((code) => code === 'INVALID_CREDENTIALS')).toHaveLength(LOGIN_LIMIT);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(25 - LOGIN_LIMIT);
    // Even the right password is refused now from this address (the login in any case) ...
    const again = await edge.post('/auth/login', {
      body: { login: 'LIMIT-ERIN', password: PASSWORD },
    });
    expect(statusAndCode(again)).toEqual([429, 'RATE_LIMITED']);
    // ... but not from another one.
    expect((await signIn(client(), 'limit-erin')).login).toBe('limit-erin');
  });

  it('enters everyone exactly once and picks one set of winners, whichever gateways entrants and admins use', async () => {
    const edge = client();
    const admin = await edge.post<LoginAnswer>('/auth/login', { body: ADMIN });
    expect(admin.status).toBe(200);
    const token = admin.body.token;
    const pick = (id: string) =>
      Promise.all(
        range(INSTANCES).map((via) =>
          edge.post<Winner[]>(`/api/draws/${id}/winners`, { via, token }),
        ),
      );
    /** Everyone enters through a gateway of their own address; some twice at once, spelt otherwise. */
    const enterAll = async (id: string, who: string[], twice: (i: number) => boolean) => {
      const attempts = who.flatMap((githubId, i) => {
        const entrant = client();
        const first = { entrant, githubId, lower: githubId, via: i % INSTANCES };
        const second = { ...first, githubId: githubId.toUpperCase(), via: (i + 1) % INSTANCES };
        return twice(i) ? [first, second] : [first];
      });
      const answers = await Promise.all(
        attempts.map(({ entrant, githubId, via }) =>
          entrant.post(`/api/draws/${id}/entries`, { via, body: { githubId } }),
        ),
      );
      const entered = who.map(
        (lower) =>
          answers.filter(
            (a, i) => attempts[i].lower === lower && a.status === 201 && a.body.githubId === lower,
          ).length,
      );
      expect(entered).toEqual(who.map(() => 1));
      const refused = answers.filter((a) => a.status !== 201);
      expect(refused.map(statusAndCode)).toEqual(refused.map(() => [409, 'ALREADY_ENTERED']));
      expect(refused).toHaveLength(attempts.length - who.length);
    };

    // A draw with fewer prizes than entrants.
    const prizes = ['Laptop', 'Phone', 'Headphones', 'Mug', 'Sticker'];
    expect(
      (await edge.post('/api/draws', { via: 0, token, body: { id: 'scale', prizes } })).status,
    ).toBe(201);
    await enterAll('scale', entrants, (i) => i % 3 === 0);
    const views = await Promise.all(
      range(INSTANCES).map((via) => edge.get('/api/draws/scale', { via })),
    );
    for (const view of views) {
      expect(view.body).toEqual({
        id: 'scale',
        state: 'DRAW_OPEN_WITH_ENTRANTS',
        prizes,
        entrants: entrants.length,
        closesAt: null,
      });
    }
    const picks = await pick('scale');
    const winners = picks[0].body;
    expect(picks.map((p) => [p.status, p.body])).toEqual(picks.map(() => [200, winners]));
    expect(winners.map((w) => w.prize)).toEqual(prizes);
    const hash = await raw.hgetall(drawKey('scale', 'winners'));
    expect(Object.keys(hash).sort()).toEqual(sorted(prizes));
    const winnerIds = Object.values(hash);
    expect(new Set(winnerIds).size).toBe(prizes.length); // each entrant wins at most one prize
    for (const winner of winners) expect(winner.name).toBe(`${hash[winner.prize]} Name`);
    const losers = await raw.smembers(drawKey('scale', 'entrants'));
    expect(sorted([...losers, ...winnerIds])).toEqual(sorted(entrants)); // nobody lost, nobody twice
    const shown = await Promise.all(
      range(INSTANCES).map((via) => edge.get<Winner[]>('/api/draws/scale/winners', { via })),
    );
    expect(shown.map((s) => [s.status, s.body])).toEqual(shown.map(() => [200, winners]));
    const late = await client().post('/api/draws/scale/entries', {
      body: { githubId: entrants[0] },
    });
    expect(statusAndCode(late)).toEqual([403, 'DRAW_CLOSED']);

    // A draw with more prizes than entrants: every entrant wins one, the rest stay unwon.
    const many = ['A', 'B', 'C', 'D', 'E', 'F'];
    const few = entrants.slice(0, 4);
    expect(
      (await edge.post('/api/draws', { via: 1, token, body: { id: 'scarce', prizes: many } }))
        .status,
    ).toBe(201);
    await enterAll('scarce', few, (i) => i === 0);
    const scarce = await pick('scarce');
    const won = scarce[0].body;
    expect(scarce.map((p) => [p.status, p.body])).toEqual(scarce.map(() => [200, won]));
    expect(won.map((w) => w.prize)).toEqual(many.slice(0, few.length));
    const scarceHash = await raw.hgetall(drawKey('scarce', 'winners'));
    expect(sorted(Object.values(scarceHash))).toEqual(sorted(few));
    expect(await raw.scard(drawKey('scarce', 'entrants'))).toBe(0);
    expect(sorted(await raw.smembers(drawKey('scarce', 'prizes')))).toEqual(many.slice(few.length));
    expect((await edge.get('/api/draws/scarce', { via: 2 })).body).toMatchObject({
      state: 'DRAW_WON',
      prizes: many.slice(few.length),
      entrants: few.length,
    });
  });

  it('lists the same members on every instance, and drops exactly the users of a killed realtime instance within the presence TTL', async () => {
    const edge = client();
    const channel = 'hall';
    const users = await Promise.all(range(9).map((i) => signUp(edge, `hall-${i}`)));
    const roamers = await Promise.all(range(2).map((i) => signUp(edge, `roamer-${i}`)));
    // Polls the listing while an instance dies; never in the channel itself.
    const watcher = await signUp(edge, 'hall-watcher');
    // User i connects through gateway i % 3; each roamer through gateway 2 and another one.
    const plan = [
      ...users.map((user, i) => ({ user, via: i % INSTANCES })),
      ...roamers.flatMap((user, i) => [
        { user, via: 2 },
        { user, via: i },
      ]),
    ];
    const connections = await Promise.all(
      plan.map(({ user, via }) =>
        PresenceClient.connect(fleet.gateways[via].url(''), { token: user.token }),
      ),
    );
    sockets.push(...connections);
    const acks = await Promise.all(connections.map((c) => c.join(channel)));
    expect(acks.map((a) => a.ok)).toEqual(plan.map(() => true));

    const listings = async (vias: { api: number[]; realtime: number[] }) =>
      Promise.all([
        ...vias.api.map((via) =>
          edge.get<Listing>(`/api/presence/${channel}`, { via, token: users[via].token }),
        ),
        ...vias.realtime.map((via) =>
          edge.get<Listing>(`/realtime/presence/${channel}`, { via, token: users[via].token }),
        ),
      ]);
    const summary = (listing: Listing) =>
      sorted(listing.members.map((m) => `${m.login}:${m.connections}`));

    const all = range(INSTANCES);
    const before = await listings({ api: all, realtime: all });
    expect(before.map((l) => l.status)).toEqual(before.map(() => 200));
    for (const listing of before) expect(listing.body).toEqual(before[0].body);
    expect(summary(before[0].body)).toEqual(
      sorted([...users.map((u) => `${u.login}:1`), ...roamers.map((u) => `${u.login}:2`)]),
    );

    // Realtime 2 dies without a word: its users must go, everyone else must stay.
    const victim = 2;
    const gone = users.filter((_, i) => i % INSTANCES === victim);
    const staying = users.filter((_, i) => i % INSTANCES !== victim);
    const expected = sorted([
      ...staying.map((u) => `${u.login}:1`),
      ...roamers.map((u) => `${u.login}:1`),
    ]);
    const polled: number[] = [];
    const seen: string[][] = [];
    const killedAt = Date.now();
    await fleet.realtime[victim].kill();
    const settledAt = await waitFor(
      "the killed instance's users to leave",
      async () => {
        const listing = await edge.get<Listing>(`/realtime/presence/${channel}`, {
          via: 0,
          token: watcher.token,
        });
        polled.push(listing.status);
        if (listing.status !== 200) return undefined;
        const members = summary(listing.body);
        seen.push(members);
        return members.join() === expected.join() ? Date.now() : undefined;
      },
      10_000,
      20,
    );
    expect(settledAt - killedAt).toBeLessThanOrEqual(PRESENCE_TTL_MS + HEARTBEAT_MS);
    // Every listing answered, and nobody else was ever missing from one.
    expect(polled.filter((status) => status !== 200)).toEqual([]);
    const survivors = [...staying, ...roamers].map((u) => u.login);
    for (const members of seen) {
      expect(survivors.filter((login) => !members.some((m) => m.startsWith(`${login}:`)))).toEqual(
        [],
      );
    }

    // Every instance still up lists the same survivors; the dead one's gateway says so.
    const after = await listings({ api: all, realtime: [0, 1] });
    expect(after.map((l) => l.status)).toEqual(after.map(() => 200));
    for (const listing of after) expect(listing.body).toEqual(after[0].body);
    expect(summary(after[0].body)).toEqual(expected);
    const orphaned = await edge.get(`/realtime/presence/${channel}`, {
      via: victim,
      token: users[0].token,
    });
    expect(statusAndCode(orphaned)).toEqual([502, 'BAD_GATEWAY']);

    // The sockets through the dead instance were closed; the others were not.
    const cut = connections.filter((_, i) => plan[i].via === victim);
    await waitFor('the sockets of the dead instance to close', () =>
      cut.every((c) => !c.connected),
    );
    expect(connections.filter((_, i) => plan[i].via !== victim).every((c) => c.connected)).toBe(
      true,
    );

    // Members elsewhere heard each dead user leave exactly once, and nobody else leave.
    const observers = [connections[0], connections[1]];
    for (const observer of observers) {
      await waitFor('presence:left for every dead user', () =>
        gone.every((u) =>
          observer
            .events('presence:left', channel)
            .some((r) => memberOf(r.payload).userId === u.id),
        ),
      );
    }
    await sleep(300);
    for (const observer of observers) {
      const left = observer.events('presence:left', channel).map((r) => memberOf(r.payload).login);
      expect(sorted(left)).toEqual(sorted(gone.map((u) => u.login)));
    }
    expect(
      await connections[1].emit('presence:update', { channel, meta: { still: 'here' } }),
    ).toEqual({
      ok: true,
    });
  });
});
