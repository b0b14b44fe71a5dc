import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, sleep, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';

const ROOT = join(__dirname, '..', '..');

interface StartRun {
  output: () => string;
  exited: Promise<number | null>;
  signal: (signal: NodeJS.Signals) => void;
}

/** Runs `npm start`'s script (node scripts/start.mjs) in `root` with exactly `env`. */
function runStart(root: string, env: Record<string, string>): StartRun {
  const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { output: () => output, exited, signal: (signal) => child.kill(signal) };
}

/**
 * A project of its own in a temporary folder: the real scripts, the rest
 * linked to this checkout (already built), so what `npm start` keeps under
 * `.lattice/` is this test's and not the developer's.
 */
function scratchProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'lattice-start-'));
  cpSync(join(ROOT, 'scripts'), join(root, 'scripts'), { recursive: true });
  for (const entry of [
    'node_modules',
    'dist',
    'apps',
    'libs',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
  ]) {
    symlinkSync(join(ROOT, entry), join(root, entry));
  }
  return root;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  describe('with a configured Redis', () => {
    let redis: TestRedis;

    beforeAll(async () => {
      redis = await startTestRedis();
    });

    afterAll(async () => {
      await redis?.dispose();
    });

    it('runs all three apps, says where each listens, and stops them all on SIGTERM', async () => {
      const [gateway, auth, realtime] = [await freePort(), await freePort(), await freePort()];
      const run = runStart(ROOT, {
        PATH: process.env.PATH ?? '',
        ...redis.env,
        LOG_LEVEL: 'warn',
        GATEWAY_PORT: String(gateway),
        AUTH_PORT: String(auth),
        REALTIME_PORT: String(realtime),
      });
      try {
        await waitFor('the banner', async () => run.output().includes('lattice: ready'), 30_000);
        const ping = await fetch(`http://127.0.0.1:${gateway}/api/ping`);
        expect(await ping.json()).toEqual({ pong: true });
        expect(run.output()).toContain(`gateway listening on http://127.0.0.1:${gateway}`);
        expect(run.output()).toContain(`auth listening on http://127.0.0.1:${auth}`);
        expect(run.output()).toContain(`realtime listening on http://127.0.0.1:${realtime}`);
        expect(run.output()).toContain(`API docs         http://127.0.0.1:${gateway}/docs`);
        expect(run.output()).toContain(`draw pages       http://127.0.0.1:${gateway}/draw`);
        expect(run.output()).toContain('ADMIN_LOGIN and ADMIN_PASSWORD');
      } finally {
        run.signal('SIGTERM');
      }
      expect(await run.exited).toBe(0);
    });
  });

  describe('on a fresh machine, where nothing answers at the probed address', () => {
    let root: string;
    /** A port where nothing listens: the probe must fail, and no Redis of the machine is touched. */
    let silentUrl: string;

    beforeAll(async () => {
      root = scratchProject();
      silentUrl = `redis://127.0.0.1:${await freePort()}`;
    });

    afterAll(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    async function startOnce(): Promise<{ run: StartRun; gateway: number }> {
      const [gateway, auth, realtime] = [await freePort(), await freePort(), await freePort()];
      const run = runStart(root, {
        PATH: process.env.PATH ?? '',
        DEFAULT_REDIS_URL: silentUrl,
        LOG_LEVEL: 'warn',
        GATEWAY_PORT: String(gateway),
        AUTH_PORT: String(auth),
        REALTIME_PORT: String(realtime),
      });
      await waitFor('the banner', async () => run.output().includes('lattice: ready'), 30_000);
      return { run, gateway };
    }

    const login = (gateway: number) =>
      fetch(`http://127.0.0.1:${gateway}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'ada', password: 'password-123' }),
      });

    it('starts a private redis-server with its data under .lattice/, kept across restarts', async () => {
      const first = await startOnce();
      const privateUrl =
        /using a private Redis \(.*redis-server\) at (redis:\/\/127\.0\.0\.1:\d+)/.exec(
          first.run.output(),
        )?.[1];
      try {
        expect(privateUrl).toBeDefined();
        expect(privateUrl).not.toBe(silentUrl);
        expect(first.run.output()).toContain(`data in ${join(root, '.lattice', 'redis')}`);
        const registered = await fetch(`http://127.0.0.1:${first.gateway}/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: 'ada', name: 'Ada', password: 'password-123' }),
        });
        expect(registered.status).toBe(201);
        expect((await login(first.gateway)).status).toBe(200);

        // A second npm start on the same data refuses: two servers would corrupt one AOF.
        const second = runStart(root, {
          PATH: process.env.PATH ?? '',
          DEFAULT_REDIS_URL: silentUrl,
          GATEWAY_PORT: String(await freePort()),
        });
        const secondExit = await Promise.race([second.exited, sleep(20_000).then(() => 'running')]);
        second.signal('SIGTERM'); // should it have started after all
        await second.exited;
        expect(secondExit).toBe(1);
        expect(second.output()).toContain('another npm start');
        expect((await login(first.gateway)).status).toBe(200);
      } finally {
        first.run.signal('SIGINT');
      }
      expect(await first.run.exited).toBe(0);
      // The server went with it: nothing answers at its address any more.
      const { port } = new URL(privateUrl!);
      expect(await acceptsConnections(Number(port))).toBe(false);

      const second = await startOnce();
      try {
        const again = await login(second.gateway);
        expect(again.status).toBe(200);
        expect(await again.json()).toMatchObject({ user: { login: 'ada' } });
      } finally {
        second.run.signal('SIGINT');
      }
      expect(await second.run.exited).toBe(0);
      expect(existsSync(join(root, '.lattice', 'redis', 'appendonlydir'))).toBe(true);
    });

    it('exits non-zero at once, saying how to get a Redis, when no server binary can be found', async () => {
      // A PATH with node and nothing else; no REDIS_SERVER_BIN.
      const bin = mkdtempSync(join(tmpdir(), 'lattice-bin-'));
      symlinkSync(process.execPath, join(bin, 'node'));
      try {
        const run = runStart(root, { PATH: bin, DEFAULT_REDIS_URL: silentUrl });
        const started = Date.now();
        expect(await run.exited).toBe(1);
        expect(Date.now() - started).toBeLessThan(10_000);
        const output = run.output();
        expect(output).toContain(`none answers at ${silentUrl}`);
        expect(output).toContain('sudo apt-get install redis-server');
        expect(output).toContain('brew install redis');
        expect(output).toContain('docker run');
        expect(output).toContain('REDIS_URL=redis://host:6379 npm start');
        expect(output).not.toContain('listening on');
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });
  });
});
