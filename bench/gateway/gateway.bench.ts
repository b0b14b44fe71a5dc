// npm run bench:gateway — the cost of the gateway on one request, all in one run:
//   direct           GET /orders/1 straight to a local upstream
//   bare proxy       the same through a bare Fastify + @fastify/http-proxy
//   lattice gateway  the same through our gateway: session check (Bearer token), rate
//                    limits (RATE_LIMIT_USER and the route's own), identity headers;
//                    every request decided in Redis (the default)
//   gateway, leased  the same gateway with RATE_LIMIT_LEASE_MS=BENCH_LEASE_MS: busy
//                    counters are decided from admissions reserved in Redis
//   gateway, traced  the same gateway with OpenTelemetry tracing on, every request
//                    sampled, exported (OTLP/HTTP) to a local sink
// Every server is its own process (the gateway and auth apps as built, from dist/),
// against one private redis-server; autocannon drives them from this process. Each
// gateway is called by its own account, so that each trims only its own counters.
// Throughput is measured with BENCH_CONNECTIONS concurrent connections, latency
// with one request at a time (no queueing). Rounds alternate the order so that
// drift hits every target alike; throughput ratios are taken within each round,
// and their median is reported. During the throughput runs, the CPU time of the
// proxy process (read from /proc) per request is the steadiest measure of its own
// cost: it does not depend on what else the two cores are busy with. Redis's CPU
// time per request is read alike: it shares the cores, so it costs throughput too.
// BENCH_PROFILE=<dir> writes V8 CPU profiles (cpu-profile.preload.cjs) of the bare proxy
// and the untraced gateway into <dir>, both stopped gracefully at the end so they write them.
import { Agent, request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { signIn, startScript } from './bench-processes';
import { median } from '../statistics';
import { AppProcess, cpuTimeUs, RedisServer } from '@lattice/testing';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 3000);
const LEASE_MS = process.env.BENCH_LEASE_MS ?? '50';
const PROFILE_DIR = process.env.BENCH_PROFILE && resolve(process.env.BENCH_PROFILE);
if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
/** Node options that profile a process into PROFILE_DIR, when asked. */
const profiled = (): Record<string, string> =>
  PROFILE_DIR
    ? {
        NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile.preload.cjs')}`,
        BENCH_PROFILE: PROFILE_DIR,
      }
    : {};
// Limits never reached, with a window shorter than a round: each round drops from
// its counters what it admitted a second before, as a busy counter does all day.
const HUGE_LIMIT = '100000000/1';

interface Sample {
  /** Requests per second with CONNECTIONS concurrent connections. */
  rps: number;
  /** CPU time (user + system) of the proxy process per request, in µs; 0 for direct. */
  cpuUs: number;
  /** CPU time of redis-server per request, in µs (the gateways' limit checks). */
  redisCpuUs: number;
  /** Latency of one request at a time, in ms. */
  p50: number;
  p99: number;
}

/** One request at a time over one keep-alive connection; sorted times in ms. */
async function latencies(url: string, headers: Record<string, string>): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < LATENCY_REQUESTS; i++) {
      const started = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        request(url, { agent, headers }, (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`)),
          );
        })
          .on('error', reject)
          .end();
      });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    agent.destroy();
  }
  return times.sort((a, b) => a - b);
}

async function measure(
  url: string,
  headers: Record<string, string>,
  pid: number | undefined,
  redisPid: number,
): Promise<Sample> {
  const cpuBefore = pid ? cpuTimeUs(pid) : 0;
  const redisBefore = cpuTimeUs(redisPid);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  const cpuUs = pid ? (cpuTimeUs(pid) - cpuBefore) / result.requests.total : 0;
  const redisCpuUs = (cpuTimeUs(redisPid) - redisBefore) / result.requests.total;
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  const times = await latencies(url, headers);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(times.length * p))];
  return { rps: result.requests.average, cpuUs, redisCpuUs, p50: at(0.5), p99: at(0.99) };
}

const line = (name: string, s: Sample): string =>
  `${name.padEnd(16)} ${s.rps.toFixed(0).padStart(7)} req/s  ` +
  `${s.cpuUs ? `${s.cpuUs.toFixed(0).padStart(4)} µs CPU/req` : '              '}  ` +
  `${s.redisCpuUs >= 0.5 ? `Redis ${s.redisCpuUs.toFixed(0).padStart(2)} µs/req` : '                '}  ` +
  `p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms`;

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const upstream = await startScript('upstream.server.ts', {});
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const bare = await startScript('bare-proxy.server.ts', { UPSTREAM: upstreamUrl, ...profiled() });
  const env = { REDIS_URL: redis.url, RATE_LIMIT_IP: HUGE_LIMIT, RATE_LIMIT_USER: HUGE_LIMIT };
  const auth = await AppProcess.start('auth', env);
  const gatewayEnv = {
    ...env,
    AUTH_URL: auth.url(''),
    ROUTES: JSON.stringify([
      { prefix: '/orders', upstream: upstreamUrl, auth: 'required', rateLimit: HUGE_LIMIT },
    ]),
  };
  const gateway = await AppProcess.start('gateway', { ...gatewayEnv, ...profiled() });
  const leased = await AppProcess.start('gateway', {
    ...gatewayEnv,
    RATE_LIMIT_LEASE_MS: LEASE_MS,
  });
  const sink = await startScript('otlp-sink.server.ts', {});
  const traced = await AppProcess.start('gateway', {
    ...gatewayEnv,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`,
    OTEL_TRACES_SAMPLER: 'always_on',
  });
  try {
    const bearer = {
      authorization: `Bearer ${await signIn((path) => gateway.url(path), 'bench')}`,
    };
    const leasedBearer = {
      authorization: `Bearer ${await signIn((path) => leased.url(path), 'bench-leased')}`,
    };
    const tracedBearer = {
      authorization: `Bearer ${await signIn((path) => traced.url(path), 'bench-traced')}`,
    };
    for (const [app, headers] of [
      [gateway, bearer],
      [leased, leasedBearer],
      [traced, tracedBearer],
    ] as const) {
      const probe = await fetch(app.url('/orders/1'), { headers });
      if (probe.status !== 200) throw new Error(`a gateway answered ${probe.status}`);
    }

    const targets = [
      { name: 'direct', url: `${upstreamUrl}/orders/1`, headers: {}, pid: undefined },
      {
        name: 'bare proxy',
        url: `http://127.0.0.1:${bare.port}/orders/1`,
        headers: {},
        pid: bare.child.pid,
      },
      { name: 'lattice gateway', url: gateway.url('/orders/1'), headers: bearer, pid: gateway.pid },
      {
        name: 'gateway, leased',
        url: leased.url('/orders/1'),
        headers: leasedBearer,
        pid: leased.pid,
      },
      {
        name: 'gateway, traced',
        url: traced.url('/orders/1'),
        headers: tracedBearer,
        pid: traced.pid,
      },
    ];
    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    // Warm-up: JIT, connection pools, the session cache.
    for (const target of targets) {
      await autocannon({
        url: target.url,
        connections: CONNECTIONS,
        duration: 2,
        headers: target.headers,
      });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of round % 2 ? targets : [...targets].reverse()) {
        const sample = await measure(target.url, target.headers, target.pid, redis.pid!);
        samples.get(target.name)!.push(sample);
        console.log(`round ${round} ${line(target.name, sample)}`);
      }
    }
    const summary = (name: string): Sample => {
      const list = samples.get(name)!;
      return {
        rps: median(list.map((s) => s.rps)),
        cpuUs: median(list.map((s) => s.cpuUs)),
        redisCpuUs: median(list.map((s) => s.redisCpuUs)),
        p50: median(list.map((s) => s.p50)),
        p99: median(list.map((s) => s.p99)),
      };
    };
    const medians = targets.map((t) => summary(t.name));
    const [direct, bareProxy] = medians;
    console.log(
      `\nmedians over ${ROUNDS} rounds (throughput: ${CONNECTIONS} connections for ${DURATION_S} s; ` +
        `latency: ${LATENCY_REQUESTS} sequential requests; lease time ${LEASE_MS} ms)`,
    );
    for (const [i, s] of medians.entries()) console.log(`  ${line(targets[i].name, s)}`);
    console.log(
      `  bare proxy: p50 added over direct ${(bareProxy.p50 - direct.p50).toFixed(3)} ms`,
    );
    // Throughput ratios are taken round by round, each gateway against the bare proxy of the
    // same round, so that the machine's drift between rounds does not enter them.
    const bareRounds = samples.get('bare proxy')!;
    for (const [i, s] of medians.entries()) {
      if (i < 2) continue;
      const ratios = samples.get(targets[i].name)!.map((g, round) => g.rps / bareRounds[round].rps);
      console.log(
        `  ${targets[i].name}: throughput ${median(ratios).toFixed(2)}x the bare proxy ` +
          `(target >= 0.8x; rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}), ` +
          `CPU per request ${(s.cpuUs / bareProxy.cpuUs).toFixed(2)}x ` +
          `(${(s.cpuUs - bareProxy.cpuUs).toFixed(0)} µs more), ` +
          `p50 added over direct ${(s.p50 - direct.p50).toFixed(3)} ms (target < 1 ms)`,
      );
    }
  } finally {
    await traced.kill();
    sink.child.kill();
    await leased.kill();
    // SIGTERM: a graceful exit, which writes the CPU profiles when BENCH_PROFILE asks for them.
    await gateway.stop();
    await auth.kill();
    upstream.child.kill();
    bare.child.kill('SIGTERM');
    await redis.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
