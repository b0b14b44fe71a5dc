// npm run bench:rate-limit — requests per second on the same route of a
// Nest-Fastify app, in one run, behind:
//   lattice     our RateLimitGuard (exact sliding window, one Lua call per request)
//   throttler   @nestjs/throttler with @nest-lab/throttler-storage-redis
//   flexible    rate-limiter-flexible's RateLimiterRedis in a guard
//   none        no limiter
// Two scenarios: `open` (a limit never reached: every request is counted and
// admitted) and `flood` (one client far over a limit of 100 per minute: nearly
// every request is refused). Then, for ours alone, `stacked` (three policies
// never reached on one route) against `open` (one), in alternating pairs.
// Each server runs in its own process against one
// private redis-server; autocannon drives them from this process. Rounds
// rotate the order so drift on a shared machine hits every target alike. A
// ratio is the median over rounds of the ratio within each round (paired, so
// load from elsewhere that changes between rounds cancels out).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, RedisServer } from '@lattice/testing';
import type { Target } from './rate-limit-bench.server';
import { median } from '../statistics';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TARGETS: Target[] = ['lattice', 'throttler', 'flexible', 'none'];
const SCENARIOS = [
  { name: 'open', path: '/bench/open' },
  { name: 'flood', path: '/bench/strict' },
] as const;

interface Server {
  target: Target;
  port: number;
  child: ChildProcess;
}

async function startServer(target: Target, redisUrl: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', join(__dirname, '..', 'register.cjs'), join(__dirname, 'rate-limit-bench.server.ts')],
    {
      env: { ...process.env, TARGET: target, PORT: String(port), REDIS_URL: redisUrl },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`${target} server exited with ${code}`)));
  });
  return { target, port, child };
}

async function measure(url: string, duration: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration });
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const servers: Server[] = [];
  try {
    for (const target of TARGETS) servers.push(await startServer(target, redis.url));
    const results = new Map<string, { rps: number[]; p99: number[]; non2xx: number[] }>();
    for (const scenario of SCENARIOS) {
      for (const server of servers) {
        // Warm-up: JIT, connections, scripts loaded; for `flood`, the client goes over its limit.
        await measure(`http://127.0.0.1:${server.port}${scenario.path}`, 2);
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = servers.map((_, i) => servers[(i + round) % servers.length]);
        for (const server of order) {
          const result = await measure(
            `http://127.0.0.1:${server.port}${scenario.path}`,
            DURATION_S,
          );
          const key = `${scenario.name}:${server.target}`;
          const entry = results.get(key) ?? { rps: [], p99: [], non2xx: [] };
          entry.rps.push(result.requests.average);
          entry.p99.push(result.latency.p99);
          entry.non2xx.push(result.non2xx / Math.max(1, result.requests.total));
          results.set(key, entry);
          process.stderr.write(
            `round ${round + 1} ${scenario.name.padEnd(5)} ${server.target.padEnd(9)} ${Math.round(result.requests.average)} req/s\n`,
          );
        }
      }
    }

    const lines = [
      `rate-limit benchmark: ${ROUNDS} rounds x ${DURATION_S} s, ${CONNECTIONS} connections, median round`,
      '',
      '| scenario | limiter | req/s | p99 ms | refused |',
      '|---|---|---:|---:|---:|',
    ];
    for (const scenario of SCENARIOS) {
      for (const target of TARGETS) {
        const entry = results.get(`${scenario.name}:${target}`)!;
        lines.push(
          `| ${scenario.name} | ${target} | ${Math.round(median(entry.rps))} | ${median(entry.p99)} | ${(median(entry.non2xx) * 100).toFixed(1)}% |`,
        );
      }
    }
    const ratio = (scenario: string, ours: Target, peer: Target): number => {
      const a = results.get(`${scenario}:${ours}`)!.rps;
      const b = results.get(`${scenario}:${peer}`)!.rps;
      return median(a.map((value, round) => value / b[round]));
    };
    const goals = [
      ['throttler', 'lattice / @nestjs/throttler', 1.5],
      ['flexible', 'lattice / rate-limiter-flexible', 1.0],
      ['none', 'lattice / no limiter', 0.6],
    ] as const;
    lines.push(
      '',
      '| ratio (median of per-round ratios) | open | target | met | flood |',
      '|---|---:|---:|---|---:|',
    );
    for (const [peer, name, goal] of goals) {
      const open = ratio('open', 'lattice', peer);
      lines.push(
        `| ${name} | ${open.toFixed(2)} | >= ${goal} | ${open >= goal ? 'yes' : 'NO'} | ${ratio('flood', 'lattice', peer).toFixed(2)} |`,
      );
    }
    const lattice = servers.find((server) => server.target === 'lattice')!;
    const stacked: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const paths =
        round % 2 ? ['/bench/stacked', '/bench/open'] : ['/bench/open', '/bench/stacked'];
      const rps: Record<string, number> = {};
      for (const path of paths) {
        rps[path] = (
          await measure(`http://127.0.0.1:${lattice.port}${path}`, DURATION_S)
        ).requests.average;
      }
      stacked.push(rps['/bench/stacked'] / rps['/bench/open']);
      process.stderr.write(
        `round ${round + 1} lattice open ${Math.round(rps['/bench/open'])} stacked ${Math.round(rps['/bench/stacked'])} req/s\n`,
      );
    }
    lines.push(
      '',
      `| lattice, three stacked policies / one (median of per-round ratios) | ${median(stacked).toFixed(2)} |`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const server of servers) server.child.kill('SIGKILL');
    await redis.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
