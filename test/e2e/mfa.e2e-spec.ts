import { Secret, TOTP } from 'otpauth';
import {
  AppProcess,
  callJson as call,
  startTestRedis,
  waitFor,
  type TestRedis,
} from '@lattice/testing';

const PASSWORD = 'password-123';
const ADMIN = { login: 'root', password: 'root-password-1' };

/**
 * The second factor (CONTRACT 8.2, issue 23 point 6) on two auth instances
 * sharing one Redis: enrolment, two-step login, codes accepted once across
 * instances, recovery codes, limits on guessing, disabling, an admin's reset,
 * and the keys it leaves in Redis.
 */
describe('TOTP second factor across two auth instances', () => {
  let redis: TestRedis;
  let one: AppProcess;
  let two: AppProcess;
  let admin: string;

  /** A private key of the account, as the README gives the layout (cluster: tagged). */
  const privateKey = (id: string, name: string) =>
    redis.mode === 'cluster' ? `{user:${id}}:${name}` : `user:${id}:${name}`;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = {
      ...redis.env,
      RATE_LIMIT_LOGIN: '100/60',
      ADMIN_LOGIN: ADMIN.login,
      ADMIN_PASSWORD: ADMIN.password,
    };
    [one, two] = await Promise.all([AppProcess.start('auth', env), AppProcess.start('auth', env)]);
    for (const app of [one, two]) {
      await waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200);
    }
    admin = await waitFor('the admin account', async () => {
      const answer = await call(one, 'POST', '/auth/login', { body: ADMIN });
      return answer.status === 200 ? (answer.body!.token as string) : undefined;
    });
  });

  afterAll(async () => {
    await Promise.all([one, two].map((p) => p?.kill()));
    await redis?.dispose();
  });

  async function signUp(login: string): Promise<{ id: string; token: string }> {
    const registered = await call(one, 'POST', '/auth/register', {
      body: { login, name: login, password: PASSWORD },
    });
    expect(registered.status).toBe(201);
    const answer = await call(two, 'POST', '/auth/login', { body: { login, password: PASSWORD } });
    return { id: registered.body!.id as string, token: answer.body!.token as string };
  }

  /** Enrols and confirms on different instances; the authenticator and the recovery codes. */
  async function enrol(token: string): Promise<{ totp: TOTP; recoveryCodes: string[] }> {
    const started = await call(one, 'POST', '/auth/mfa/totp', { token });
    expect(started.status).toBe(201);
    const totp = new TOTP({ secret: Secret.fromBase32(started.body!.secret as string) });
    const confirmed = await call(two, 'POST', '/auth/mfa/totp/confirm', {
      token,
      body: { code: totp.generate() },
    });
    expect(confirmed.status).toBe(200);
    return { totp, recoveryCodes: confirmed.body!.recoveryCodes as string[] };
  }

  const nextStep = (totp: TOTP) => totp.generate({ timestamp: Date.now() + 30_000 });

  async function challenge(app: AppProcess, login: string): Promise<string> {
    const answer = await call(app, 'POST', '/auth/login', { body: { login, password: PASSWORD } });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      mfaRequired: true,
      challenge: expect.any(String),
      expiresAt: expect.any(String),
    });
    // No session yet: neither a token nor a cookie.
    expect(answer.headers.get('set-cookie')).toBeNull();
    const expiresIn = Date.parse(answer.body!.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(290_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);
    return answer.body!.challenge as string;
  }

  const secondStep = (app: AppProcess, challengeId: string, code: string) =>
    call(app, 'POST', '/auth/login/mfa', { body: { challenge: challengeId, code } });

  it('enrols, then signs in in two steps; a code works once across instances, a recovery code once', async () => {
    const alice = await signUp('alice');
    const started = await call(one, 'POST', '/auth/mfa/totp', { token: alice.token });
    expect(started.status).toBe(201);
    expect(started.body!.otpauthUri).toMatch(/^otpauth:\/\/totp\/Lattice:alice\?/);
    expect(started.body!.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const raw = redis.client();
    // Not in force until confirmed: the login is still one step, the user hash holds no secret.
    expect(
      (await call(two, 'POST', '/auth/login', { body: { login: 'alice', password: PASSWORD } }))
        .body,
    ).toHaveProperty('token');
    expect(Object.keys(await raw.hgetall(`user:${alice.id}`)).sort()).toEqual([
      'followers',
      'following',
      'gen',
      'id',
      'login',
      'name',
      'posts',
      'signup',
    ]);
    expect(await raw.ttl(privateKey(alice.id, 'totp:pending'))).toBeGreaterThan(590);

    const totp = new TOTP({ secret: Secret.fromBase32(started.body!.secret as string) });
    const wrong = await call(two, 'POST', '/auth/mfa/totp/confirm', {
      token: alice.token,
      body: { code: totp.generate() === '000000' ? '111111' : '000000' },
    });
    expect(wrong.body).toMatchObject({ statusCode: 401, code: 'INVALID_CODE' });
    const code = totp.generate();
    const confirmed = await call(two, 'POST', '/auth/mfa/totp/confirm', {
      token: alice.token,
      body: { code },
    });
    expect(confirmed.status).toBe(200);
    const recoveryCodes = confirmed.body!.recoveryCodes as string[];
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const recovery of recoveryCodes) expect(recovery).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
    // Stored hashed, never in clear; the enrolment is gone.
    const stored = await raw.smembers(privateKey(alice.id, 'recovery'));
    expect(stored).toHaveLength(10);
    for (const hash of stored) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.some((hash) => recoveryCodes.includes(hash))).toBe(false);
    expect(await raw.exists(privateKey(alice.id, 'totp:pending'))).toBe(0);

    // The code that confirmed was used: refused on the other instance too.
    expect((await secondStep(one, await challenge(two, 'alice'), code)).body).toMatchObject({
      code: 'INVALID_CODE',
    });
    const next = nextStep(totp);
    const signedIn = await secondStep(one, await challenge(two, 'alice'), next);
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('set-cookie')).toMatch(/^sid=/);
    const token = signedIn.body!.token as string;
    expect((await call(two, 'GET', '/auth/me', { token })).status).toBe(200);
    expect((await secondStep(two, await challenge(one, 'alice'), next)).body).toMatchObject({
      code: 'INVALID_CODE',
    });

    // A recovery code instead, once; a used challenge is gone.
    const viaRecovery = await challenge(one, 'alice');
    expect((await secondStep(two, viaRecovery, recoveryCodes[0])).status).toBe(200);
    expect((await secondStep(one, viaRecovery, recoveryCodes[1])).body).toMatchObject({
      code: 'MFA_CHALLENGE_EXPIRED',
    });
    expect(
      (await secondStep(one, await challenge(two, 'alice'), recoveryCodes[0])).body,
    ).toMatchObject({
      code: 'INVALID_CODE',
    });
    expect(await raw.scard(privateKey(alice.id, 'recovery'))).toBe(9);
    expect(await raw.exists(privateKey(alice.id, 'totp'))).toBe(1);
    raw.disconnect();

    // A wrong password is the usual 401 and reveals nothing about the factor.
    const wrongPassword = await call(one, 'POST', '/auth/login', {
      body: { login: 'alice', password: 'not-the-password' },
    });
    expect(wrongPassword.body).toMatchObject({ statusCode: 401, code: 'INVALID_CREDENTIALS' });
  });

  it('limits guessing: five codes per challenge, ten per account in 15 minutes, then blocked', async () => {
    const bob = await signUp('bob');
    const { totp } = await enrol(bob.token);
    const right = nextStep(totp);
    const wrongCode = (i: number) => {
      const candidate = String(100000 + i);
      return candidate === right || candidate === totp.generate() ? String(200000 + i) : candidate;
    };
    const first = await challenge(one, 'bob');
    const codes: unknown[] = [];
    for (let i = 0; i < 6; i++)
      codes.push((await secondStep(i % 2 ? one : two, first, wrongCode(i))).body!.code);
    expect(codes).toEqual([...Array(5).fill('INVALID_CODE'), 'MFA_CHALLENGE_EXPIRED']);
    // The confirmation counted too: four more make ten.
    const second = await challenge(two, 'bob');
    for (let i = 0; i < 4; i++) {
      expect((await secondStep(one, second, wrongCode(10 + i))).body!.code).toBe('INVALID_CODE');
    }
    // Ten counted for the account: even the right code is refused now, on any instance, for 15 minutes.
    const blocked = await secondStep(two, await challenge(one, 'bob'), right);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(890);
  });

  it('disables with the password and a code; an admin resets a lost factor; deletion takes it along', async () => {
    const carol = await signUp('carol');
    const { recoveryCodes } = await enrol(carol.token);
    const disable = (body: unknown) =>
      call(two, 'DELETE', '/auth/mfa/totp', { token: carol.token, body });
    expect(
      (await disable({ password: 'wrong-password', code: recoveryCodes[0] })).body,
    ).toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    expect((await disable({ password: PASSWORD, code: '12345-abcde' })).body).toMatchObject({
      code: 'INVALID_CODE',
    });
    expect((await disable({ password: PASSWORD, code: recoveryCodes[0] })).status).toBe(204);
    expect((await disable({ password: PASSWORD, code: recoveryCodes[1] })).body).toMatchObject({
      statusCode: 404,
    });
    expect(
      (await call(one, 'POST', '/auth/login', { body: { login: 'carol', password: PASSWORD } }))
        .body,
    ).toHaveProperty('token');

    // An admin's reset, for a user who lost the device and the codes; only admins may.
    await enrol(carol.token);
    const reset = (token: string) => call(one, 'DELETE', `/auth/users/${carol.id}/mfa`, { token });
    expect((await reset(carol.token)).status).toBe(403);
    expect((await reset(admin)).status).toBe(204);
    expect((await call(one, 'DELETE', '/auth/users/99999/mfa', { token: admin })).status).toBe(404);
    expect(
      (await call(two, 'POST', '/auth/login', { body: { login: 'carol', password: PASSWORD } }))
        .body,
    ).toHaveProperty('token');

    // Deleting the account needs a code while a factor is active, and removes every key of it.
    const { totp } = await enrol(carol.token);
    const remove = (body: unknown) => call(one, 'DELETE', '/auth/me', { token: carol.token, body });
    expect((await remove({ password: PASSWORD })).body).toMatchObject({ code: 'INVALID_CODE' });
    expect((await remove({ password: PASSWORD, code: nextStep(totp) })).status).toBe(204);
    const left = [
      ...(await redis.keys(`*user:${carol.id}*`)),
      ...(await redis.keys(`*user:${carol.id}}*`)),
    ];
    // Rate-limit counters expire with their windows; nothing of the account is left.
    expect(left.filter((key) => !key.startsWith('ratelimit:'))).toEqual([]);
  });
});
