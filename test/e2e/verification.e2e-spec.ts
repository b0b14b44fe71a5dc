import {
  AppProcess,
  callJson,
  sleep,
  startTestRedis,
  waitFor,
  type TestRedis,
} from '@lattice/testing';

type Json = Record<string, unknown>;

/** callJson, with the client's address as a proxy in front would forward it. */
async function call(
  app: AppProcess,
  method: string,
  path: string,
  { ip, ...options }: { body?: unknown; token?: string; ip?: string } = {},
) {
  const answer = await callJson(app, method, path, {
    ...options,
    headers: ip ? { 'x-forwarded-for': ip } : {},
  });
  return { status: answer.status, body: answer.body as Json };
}

const ADDRESS = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BASE = `/auth/verifications/polkadot/${ADDRESS}`;

describe('verification challenges across two auth instances', () => {
  let redis: TestRedis;
  let one: AppProcess;
  let two: AppProcess;
  let owner: string;
  let stranger: string;
  /** The contract's `<network>:<address>`; on Redis Cluster it is a hash tag (README). */
  const challenge = (address: string) =>
    redis.mode === 'cluster' ? `{polkadot:${address}}` : `polkadot:${address}`;

  async function signUp(app: AppProcess, login: string): Promise<string> {
    await call(app, 'POST', '/auth/register', {
      body: { login, name: login, password: 'password-123' },
    });
    return (await call(app, 'POST', '/auth/login', { body: { login, password: 'password-123' } }))
      .body.token as string;
  }

  const start = (media: { type: string; name: string }[], address = ADDRESS) =>
    call(one, 'POST', '/auth/verifications', {
      token: owner,
      body: { network: 'polkadot', address, media },
    });

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = { ...redis.env, TRUST_PROXY: 'true' };
    [one, two] = await Promise.all([AppProcess.start('auth', env), AppProcess.start('auth', env)]);
    await Promise.all(
      [one, two].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
    owner = await signUp(one, 'owner');
    stranger = await signUp(two, 'stranger');
  });

  afterAll(async () => {
    await Promise.all([one, two].map((p) => p?.kill()));
    await redis?.dispose();
  });

  it('creates a challenge, confirms each medium on alternating instances, and is Done after the last', async () => {
    const created = await start([
      { type: 'discord', name: 'patchwinner' },
      { type: 'twitter', name: '@patch' },
      { type: 'matrix', name: '@patch:matrix.org' },
    ]);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      network: 'polkadot',
      address: ADDRESS,
      status: 'Pending',
    });
    const media = created.body.media as {
      type: string;
      name: string;
      status: string;
      token: string;
    }[];
    expect(media.map((m) => m.type)).toEqual(['discord', 'twitter', 'matrix']);
    for (const m of media) expect(m.token).toMatch(/^[A-Z0-9]{8}$/);

    // The exact layout, read back with a plain client.
    const raw = redis.client();
    const account = await raw.hgetall(challenge(ADDRESS));
    expect(Object.keys(account).sort()).toEqual([
      'created_at',
      'media_types',
      'status',
      'updated_at',
    ]);
    expect(account).toMatchObject({ status: 'Pending', media_types: 'discord,twitter,matrix' });
    expect(await raw.hgetall(`${challenge(ADDRESS)}:discord`)).toEqual({
      name: 'patchwinner',
      status: 'Pending',
      token: media[0].token,
    });
    for (const key of [
      challenge(ADDRESS),
      `${challenge(ADDRESS)}:discord`,
      `${challenge(ADDRESS)}:twitter`,
      `${challenge(ADDRESS)}:matrix`,
    ]) {
      const ttl = await raw.ttl(key);
      expect(ttl).toBeGreaterThan(86_000);
      expect(ttl).toBeLessThanOrEqual(86_400);
    }

    const apps = [two, one, two];
    for (const [i, m] of media.entries()) {
      const confirmed = await call(apps[i], 'POST', `${BASE}/${m.type}/confirm`, {
        body: { token: m.token.toLowerCase() },
      });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.status).toBe(i === media.length - 1 ? 'Done' : 'Pending');
      expect((confirmed.body.media as Json[])[i].status).toBe('Done');
    }
    expect(await raw.hget(challenge(ADDRESS), 'status')).toBe('Done');
    raw.disconnect();
  });

  it('shows tokens to the owner only', async () => {
    await start([{ type: 'email', name: 'a@example.com' }]);
    const mine = await call(two, 'GET', BASE, { token: owner });
    expect((mine.body.media as Json[])[0].token).toMatch(/^[A-Z0-9]{8}$/);
    const theirs = await call(one, 'GET', BASE, { token: stranger });
    const anonymous = await call(two, 'GET', BASE);
    for (const view of [theirs, anonymous]) {
      expect(view.status).toBe(200);
      expect((view.body.media as Json[])[0]).toEqual({
        type: 'email',
        name: 'a@example.com',
        status: 'Pending',
      });
    }
    expect((await call(one, 'GET', '/auth/verifications/polkadot/NoSuchAddress1')).status).toBe(
      404,
    );
  });

  it('refuses a wrong token with 400 INVALID_TOKEN, and never resets a confirmed medium', async () => {
    const created = await start([
      { type: 'github', name: 'octo' },
      { type: 'web', name: 'https://octo.example' },
    ]);
    const [github] = created.body.media as { token: string }[];
    const wrong = await call(two, 'POST', `${BASE}/github/confirm`, {
      body: { token: 'AAAAAAAA' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'INVALID_TOKEN' });
    expect(
      (await call(one, 'POST', `${BASE}/github/confirm`, { body: { token: github.token } })).status,
    ).toBe(200);
    expect(
      (await call(two, 'POST', `${BASE}/github/confirm`, { body: { token: 'ZZZZZZZZ' } })).status,
    ).toBe(400);
    const state = await call(one, 'GET', BASE);
    expect((state.body.media as Json[])[0].status).toBe('Done');
    expect(
      (await call(one, 'POST', `${BASE}/discord/confirm`, { body: { token: 'AAAAAAAA' } })).status,
    ).toBe(404);
  });

  it('becomes Done exactly once when two media are confirmed at the same moment on two instances', async () => {
    for (let round = 0; round < 5; round++) {
      const address = `ConcurrentAddress${round}`;
      const created = await start(
        [
          { type: 'discord', name: 'a' },
          { type: 'twitter', name: 'b' },
        ],
        address,
      );
      const [d, t] = created.body.media as { type: string; token: string }[];
      const path = `/auth/verifications/polkadot/${address}`;
      const results = await Promise.all([
        call(one, 'POST', `${path}/discord/confirm`, { body: { token: d.token } }),
        call(two, 'POST', `${path}/twitter/confirm`, { body: { token: t.token } }),
      ]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      const final = await call(one, 'GET', path);
      expect(final.body.status).toBe('Done');
      expect((final.body.media as Json[]).map((m) => m.status)).toEqual(['Done', 'Done']);
    }
  });

  it('limits confirmation attempts per challenge, whatever the IP', async () => {
    await start([{ type: 'discord', name: 'target' }], 'BruteForcedAddress');
    const path = '/auth/verifications/polkadot/BruteForcedAddress/discord/confirm';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(
        (
          await call(i % 2 ? one : two, 'POST', path, {
            body: { token: `GUESS${String(i).padStart(3, '0')}` },
            ip: `198.51.100.${i}`,
          })
        ).status,
      );
    }
    expect(statuses.slice(0, 10).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('restarting a challenge replaces the old one and its tokens', async () => {
    const first = await start(
      [
        { type: 'discord', name: 'old' },
        { type: 'matrix', name: '@old:x' },
      ],
      'RestartedAddress',
    );
    const oldToken = (first.body.media as { token: string }[])[0].token;
    const second = await start([{ type: 'twitter', name: 'new' }], 'RestartedAddress');
    expect((second.body.media as Json[]).map((m) => m.type)).toEqual(['twitter']);
    const raw = redis.client();
    const restarted = challenge('RestartedAddress');
    expect(await raw.exists(`${restarted}:discord`, `${restarted}:matrix`)).toBe(0);
    expect(await raw.hget(restarted, 'media_types')).toBe('twitter');
    raw.disconnect();
    expect(
      (
        await call(two, 'POST', '/auth/verifications/polkadot/RestartedAddress/discord/confirm', {
          body: { token: oldToken },
        })
      ).status,
    ).toBe(404);
  });

  it('lets only the owner delete a challenge', async () => {
    await start([{ type: 'web', name: 'https://x.example' }], 'DeletedAddress');
    const path = '/auth/verifications/polkadot/DeletedAddress';
    expect((await call(two, 'DELETE', path, { token: stranger })).status).toBe(403);
    expect((await call(one, 'DELETE', path)).status).toBe(401);
    expect((await call(two, 'DELETE', path, { token: owner })).status).toBe(204);
    expect((await call(one, 'GET', path)).status).toBe(404);
    expect(await redis.keys('*polkadot:DeletedAddress*')).toEqual([]);
  });

  it('validates input with clear 400s', async () => {
    const bad: [unknown, RegExp][] = [
      [
        { network: 'bitcoin', address: ADDRESS, media: [{ type: 'email', name: 'a' }] },
        /network must be one of polkadot, kusama/,
      ],
      [
        { network: 'polkadot', address: 'has:colon', media: [{ type: 'email', name: 'a' }] },
        /address/,
      ],
      [
        { network: 'polkadot', address: 'x'.repeat(129), media: [{ type: 'email', name: 'a' }] },
        /address/,
      ],
      [{ network: 'polkadot', address: ADDRESS, media: [{ type: 'fax', name: 'a' }] }, /type/],
      [{ network: 'polkadot', address: ADDRESS, media: [] }, /at least one/],
      [
        {
          network: 'polkadot',
          address: ADDRESS,
          media: [
            { type: 'email', name: 'a' },
            { type: 'email', name: 'b' },
          ],
        },
        /twice/,
      ],
      [{ network: 'polkadot', address: ADDRESS, media: [{ type: 'email', name: '' }] }, /name/],
      [
        {
          network: 'polkadot',
          address: ADDRESS,
          media: [{ type: 'email', name: 'x'.repeat(201) }],
        },
        /name/,
      ],
    ];
    for (const [body, message] of bad) {
      const res = await call(one, 'POST', '/auth/verifications', { token: owner, body });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    expect(
      (await call(one, 'POST', `${BASE}/fax/confirm`, { body: { token: 'AAAAAAAA' } })).status,
    ).toBe(400);
    expect(
      (
        await call(one, 'POST', '/auth/verifications', {
          body: { network: 'polkadot', address: ADDRESS, media: [{ type: 'email', name: 'a' }] },
        })
      ).status,
    ).toBe(401);
  });
});

describe('verification challenge expiry', () => {
  let redis: TestRedis;
  let app: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    app = await AppProcess.start('auth', { ...redis.env, VERIFICATION_TTL: '1' });
    await waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200);
  });

  afterAll(async () => {
    await app?.kill();
    await redis?.dispose();
  });

  it('removes every key of a challenge after VERIFICATION_TTL', async () => {
    await call(app, 'POST', '/auth/register', {
      body: { login: 'shortlived', name: 's', password: 'password-123' },
    });
    const token = (
      await call(app, 'POST', '/auth/login', {
        body: { login: 'shortlived', password: 'password-123' },
      })
    ).body.token as string;
    const created = await call(app, 'POST', '/auth/verifications', {
      token,
      body: {
        network: 'kusama',
        address: 'ExpiringAddress',
        media: [{ type: 'email', name: 'e@x.example' }],
      },
    });
    expect(created.status).toBe(201);
    await sleep(1100);
    await waitFor(
      'expiry',
      async () =>
        (await call(app, 'GET', '/auth/verifications/kusama/ExpiringAddress')).status === 404,
      5000,
      100,
    );
    // Standalone `kusama:ExpiringAddress…`, Cluster `{kusama:ExpiringAddress}…`: on every master.
    expect(await redis.keys('*kusama:ExpiringAddress*')).toEqual([]);
  });
});
