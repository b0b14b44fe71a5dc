import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';

describe('npm start', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startTestRedis();
  });

  afterAll(async () => {
    await redis?.dispose();
  });

  it('runs all three apps, says where each listens, and stops them all on SIGTERM', async () => {
    const [gateway, auth, realtime] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', 'start.mjs')], {
      env: {
        PATH: process.env.PATH ?? '',
        ...redis.env,
        LOG_LEVEL: 'warn',
        GATEWAY_PORT: String(gateway),
        AUTH_PORT: String(auth),
        REALTIME_PORT: String(realtime),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      for (const port of [gateway, auth, realtime]) {
        await waitFor(
          `port ${port}`,
          async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok,
          20_000,
        );
      }
      const ping = await fetch(`http://127.0.0.1:${gateway}/api/ping`);
      expect(await ping.json()).toEqual({ pong: true });
      expect(output).toContain(`gateway listening on http://127.0.0.1:${gateway}`);
      expect(output).toContain(`auth listening on http://127.0.0.1:${auth}`);
      expect(output).toContain(`realtime listening on http://127.0.0.1:${realtime}`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
