import { AppProcess, freePort, RedisServer, sleep, waitFor, type AppName } from '@lattice/testing';

// The gateway last, pointed at the others: its /docs/json merges their documents.
const APPS: AppName[] = ['auth', 'realtime', 'gateway'];
const WARN = 40;

interface LogLine {
  level: number;
  context?: string;
  msg?: string;
}

/** Every JSON log line an app printed; its other lines ("listening on …") are not logs. */
function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

const described = (line: LogLine) => `${line.level} [${line.context ?? ''}] ${line.msg ?? ''}`;

describe('a start of the three apps', () => {
  it('logs nothing at warn or above, nor Nest route mappings, when Redis is up', async () => {
    const redis = await RedisServer.start();
    const running: AppProcess[] = [];
    try {
      // LOG_FORMAT unset and standard output not a terminal: JSON lines.
      for (const app of APPS) {
        const upstreams: Record<string, string> =
          app === 'gateway'
            ? { AUTH_URL: running[0]!.url(''), REALTIME_URL: running[1]!.url('') }
            : {};
        running.push(
          await AppProcess.start(app, { REDIS_URL: redis.url, LOG_LEVEL: 'info', ...upstreams }),
        );
      }
      for (const proc of running) {
        await waitFor(
          `${proc.app} ready`,
          async () => (await fetch(proc.url('/health/ready'))).status === 200,
        );
      }
      const docs = await fetch(running[2]!.url('/docs/json'));
      expect(docs.status).toBe(200);
      // Merged from the three apps' own documents, with no preview application's warnings.
      expect(Object.keys(((await docs.json()) as { paths: object }).paths)).toEqual(
        expect.arrayContaining(['/api/ping', '/auth/login', '/realtime/presence/{channel}']),
      );
      // Time for the background readers (cache-sync, invalidation feed) to have started.
      await sleep(1500);
      for (const proc of running) {
        const lines = logLines(proc.logs);
        expect(lines.some((line) => line.msg === 'Nest application successfully started')).toBe(
          true,
        );
        expect(lines.filter((line) => line.level >= WARN).map(described)).toEqual([]);
        expect(lines.filter((line) => /^Mapped \{/.test(line.msg ?? '')).map(described)).toEqual(
          [],
        );
      }
    } finally {
      await Promise.all(running.map((proc) => proc.kill()));
      await redis.dispose();
    }
  });

  it('still warns about a real outage: no Redis at REDIS_URL', async () => {
    const gateway = await AppProcess.start('gateway', {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      LOG_LEVEL: 'info',
    });
    try {
      await waitFor(
        'the outage warnings',
        async () => {
          const warnings = logLines(gateway.logs).filter((line) => line.level === WARN);
          return (
            warnings.some((line) => /^Cannot read cache-sync events/.test(line.msg ?? '')) &&
            warnings.some((line) => /^The route table could not be read/.test(line.msg ?? ''))
          );
        },
        15_000,
      );
      expect((await fetch(gateway.url('/health/ready'))).status).toBe(503);
    } finally {
      await gateway.kill();
    }
  });

  it('logs readable lines with LOG_FORMAT=pretty', async () => {
    const redis = await RedisServer.start();
    const gateway = await AppProcess.start('gateway', {
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'pretty',
    });
    try {
      await waitFor('the start-up line', async () =>
        gateway.logs.includes('Nest application successfully started'),
      );
      expect(gateway.logs).toMatch(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway \[NestApplication\] Nest application successfully started$/m,
      );
      expect(gateway.logs.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
    } finally {
      await gateway.kill();
      await redis.dispose();
    }
  });
});
