// npm run bench:session — requests per second on one route, all in one run:
//   lattice public     GET /bench/public, no session
//   lattice session    GET /bench/private behind our session guard (Bearer token)
//   fastify-session    GET /bench/private checked by @fastify/session + connect-redis (cookie)
// Each server runs in its own process against one private redis-server; autocannon
// drives them from this process. Rounds alternate the order so drift hits every target
// alike, and each ratio is the median of the per-round ratios: on a machine whose speed
// drifts, targets measured side by side in one round compare fairly.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, RedisServer } from '@lattice/testing';
import { median } from '../statistics';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const CONNECTIONS = 32;

/** Lattice session is compared with each of these, with its target. */
const COMPARED: [string, string][] = [
  ['lattice public', '≥ 0.9×'],
  ['fastify-session', '> 1×'],
];

interface Target {
  name: string;
  server: 'lattice' | 'fastify-session';
  path: string;
  headers: () => Record<string, string>;
}

async function startServer(
  kind: string,
  redisUrl: string,
): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', join(__dirname, '..', 'register.cjs'), join(__dirname, 'session-bench.server.ts')],
    {
      env: {
        ...process.env,
        TARGET: kind,
        PORT: String(port),
        REDIS_URL: redisUrl,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_IP: '100000000/60',
        RATE_LIMIT_USER: '100000000/60',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return { port, child };
}

async function run(
  url: string,
  headers: Record<string, string>,
  duration: number,
): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration, headers });
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const lattice = await startServer('lattice', redis.url);
  const peer = await startServer('fastify-session', redis.url);
  try {
    const login = await fetch(`http://127.0.0.1:${lattice.port}/bench/login`, { method: 'POST' });
    const { token } = (await login.json()) as { token: string };
    const peerLogin = await fetch(`http://127.0.0.1:${peer.port}/bench/login`, { method: 'POST' });
    const peerCookie = peerLogin.headers.get('set-cookie')!.split(';')[0];
    const probe = await fetch(`http://127.0.0.1:${peer.port}/bench/private`, {
      headers: { cookie: peerCookie },
    });
    if (probe.status !== 200)
      throw new Error(`fastify-session login did not stick (${probe.status})`);

    const targets: (Target & { port: number })[] = [
      {
        name: 'lattice public',
        server: 'lattice',
        port: lattice.port,
        path: '/bench/public',
        headers: () => ({}),
      },
      {
        name: 'lattice session',
        server: 'lattice',
        port: lattice.port,
        path: '/bench/private',
        headers: () => ({ authorization: `Bearer ${token}` }),
      },
      {
        name: 'fastify-session',
        server: 'fastify-session',
        port: peer.port,
        path: '/bench/private',
        headers: () => ({ cookie: peerCookie }),
      },
    ];
    const totals = new Map<
      string,
      { requests: number; seconds: number; p50: number[]; p99: number[]; errors: number }
    >();
    for (const t of targets) await run(`http://127.0.0.1:${t.port}${t.path}`, t.headers(), 2); // warm-up
    const perRound = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const rates = new Map<string, number>();
      for (const t of round % 2 ? [...targets].reverse() : targets) {
        const result = await run(`http://127.0.0.1:${t.port}${t.path}`, t.headers(), DURATION_S);
        rates.set(t.name, result.requests.total / result.duration);
        const total = totals.get(t.name) ?? {
          requests: 0,
          seconds: 0,
          p50: [],
          p99: [],
          errors: 0,
        };
        total.requests += result.requests.total;
        total.seconds += result.duration;
        total.p50.push(result.latency.p50);
        total.p99.push(result.latency.p99);
        total.errors += result.non2xx + result.errors;
        totals.set(t.name, total);
      }
      for (const [of] of COMPARED) {
        const list = perRound.get(of) ?? [];
        list.push(rates.get('lattice session')! / rates.get(of)!);
        perRound.set(of, list);
      }
    }
    const rps = (name: string) => totals.get(name)!.requests / totals.get(name)!.seconds;
    console.log(
      `\nsession benchmark: ${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections\n`,
    );
    console.log('| target | req/s | p50 ms | p99 ms | non-2xx |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [name, t] of totals) {
      console.log(
        `| ${name} | ${Math.round(rps(name))} | ${median(t.p50)} | ${median(t.p99)} | ${t.errors} |`,
      );
    }
    for (const [of, target] of COMPARED) {
      const ratios = perRound.get(of)!;
      console.log(
        `\nlattice session / ${of}: ${median(ratios).toFixed(2)}× (target ${target}; ` +
          `median of ${ratios.length} rounds, from ${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)})`,
      );
    }
  } finally {
    lattice.child.kill('SIGKILL');
    peer.child.kill('SIGKILL');
    await redis.dispose();
  }
}

void main();
