// npm run bench:gateway-pair -- <baseline root> — two builds of the gateway side by side:
//   bare proxy  a bare Fastify + @fastify/http-proxy in front of the upstream (as bench:gateway)
//   baseline    the gateway built in another checkout (a git worktree at the commit to
//               compare with, after its own `npm run build`), from <root>/dist
//   this build  the gateway from this checkout's dist/
// Both gateways route GET /orders/1 as bench:gateway's untraced one does (a bearer session,
// RATE_LIMIT_USER and the route's own limit decided in Redis), each with its own account,
// against one private redis-server and one auth app. The machine these benchmarks run on
// is shared and its speed drifts by more than a change to the gateway costs, so the two
// builds are measured in the same run, round after round, in an order that changes every
// round (every target first, middle and last in turn). Reported per round and as medians:
// each gateway's CPU time per request from /proc against the bare proxy's, the throughput
// against the bare proxy's, and this build's CPU per request against the baseline's, the
// steadiest figure. BENCH_ROUNDS (8), BENCH_DURATION (4 s a target a round),
// BENCH_CONNECTIONS (32). The Node that runs this runs every server, so
// `/path/to/node -r ./bench/register.cjs bench/gateway/gateway-pair.bench.ts <root>`
// compares the builds on another Node.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { signIn, startScript } from './bench-processes';
import { median } from '../statistics';
import { AppProcess, cpuTimeUs, freePort, RedisServer, waitFor } from '@lattice/testing';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const HUGE_LIMIT = '100000000/1';
const ORDERS = [
  [0, 1, 2],
  [2, 1, 0],
  [1, 0, 2],
  [2, 0, 1],
  [0, 2, 1],
  [1, 2, 0],
];

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number;
  rps: number[];
  cpuUs: number[];
}

/** A gateway from `root`'s dist/ (AppProcess starts this checkout's only). */
async function startGateway(root: string, env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(root, 'dist/apps/gateway/main.js')], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  await waitFor(
    `the gateway of ${root}`,
    async () => (await fetch(url('/health/live')).catch(() => null))?.status === 200,
    30_000,
  );
  return { child, url };
}

/** What autocannon is given for a target, beside the duration. */
const load = ({ url, headers }: Target) => ({ url, headers, connections: CONNECTIONS });

const listed = (values: number[]): string => values.map((v) => v.toFixed(2)).join(', ');

async function main(): Promise<void> {
  const baseline = process.argv[2] && resolve(process.argv[2]);
  if (!baseline || !existsSync(join(baseline, 'dist/apps/gateway/main.js'))) {
    throw new Error('Give the root of a built checkout to compare with (its dist/apps/gateway)');
  }
  const redis = await RedisServer.start();
  const upstream = await startScript('upstream.server.ts', {});
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const bare = await startScript('bare-proxy.server.ts', { UPSTREAM: upstreamUrl });
  const env = { REDIS_URL: redis.url, RATE_LIMIT_IP: HUGE_LIMIT, RATE_LIMIT_USER: HUGE_LIMIT };
  const auth = await AppProcess.start('auth', env);
  const gatewayEnv = {
    ...env,
    AUTH_URL: auth.url(''),
    ROUTES: JSON.stringify([
      { prefix: '/orders', upstream: upstreamUrl, auth: 'required', rateLimit: HUGE_LIMIT },
    ]),
  };
  const gateways = [
    await startGateway(baseline, gatewayEnv),
    await startGateway(join(__dirname, '..', '..'), gatewayEnv),
  ];
  try {
    const targets: Target[] = [
      {
        name: 'bare proxy',
        url: `http://127.0.0.1:${bare.port}/orders/1`,
        headers: {},
        pid: bare.child.pid!,
        rps: [],
        cpuUs: [],
      },
    ];
    for (const [i, name] of ['baseline', 'this build'].entries()) {
      const { url, child } = gateways[i];
      const authorization = `Bearer ${await signIn(url, `bench-pair-${i}`)}`;
      targets.push({
        name,
        url: url('/orders/1'),
        headers: { authorization },
        pid: child.pid!,
        rps: [],
        cpuUs: [],
      });
    }
    for (const target of targets) {
      const probe = await fetch(target.url, { headers: target.headers });
      if (probe.status !== 200) throw new Error(`${target.name} answered ${probe.status}`);
      // Warm-up: JIT, connection pools, the session cache.
      await autocannon({ ...load(target), duration: 2 });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of ORDERS[round % ORDERS.length].map((i) => targets[i])) {
        const before = cpuTimeUs(target.pid);
        const result = await autocannon({ ...load(target), duration: DURATION_S });
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(
            `${target.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`,
          );
        }
        target.rps.push(result.requests.average);
        target.cpuUs.push((cpuTimeUs(target.pid) - before) / result.requests.total);
      }
      console.log(
        `round ${round + 1}: ` +
          targets
            .map(
              (t) =>
                `${t.name} ${t.rps[round].toFixed(0)} req/s, ${t.cpuUs[round].toFixed(0)} µs CPU/req`,
            )
            .join(' | '),
      );
    }
    const [bareProxy, ...builds] = targets;
    console.log(
      `\n${ROUNDS} rounds of ${DURATION_S} s, ${CONNECTIONS} connections, Node ${process.version}; ` +
        `bare proxy ${median(bareProxy.cpuUs).toFixed(0)} µs CPU/req (median)`,
    );
    for (const build of builds) {
      const cpu = build.cpuUs.map((c, round) => c / bareProxy.cpuUs[round]);
      const rps = build.rps.map((r, round) => r / bareProxy.rps[round]);
      console.log(
        `  ${build.name}: ${median(build.cpuUs).toFixed(0)} µs CPU/req; CPU per request ` +
          `${median(cpu).toFixed(2)}x the bare proxy's (rounds ${listed(cpu)}); throughput ` +
          `${median(rps).toFixed(2)}x (rounds ${listed(rps)})`,
      );
    }
    const [before, after] = builds;
    const ratio = after.cpuUs.map((c, round) => c / before.cpuUs[round]);
    console.log(
      `  this build / baseline, CPU per request: ${median(ratio).toFixed(3)} (rounds ${listed(ratio)})`,
    );
  } finally {
    for (const { child } of gateways) child.kill('SIGTERM');
    await auth.kill();
    upstream.child.kill();
    bare.child.kill();
    await redis.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
