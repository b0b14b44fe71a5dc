// npm run bench:realtime — channel messages fanned out across two instances, and
// presence joins seen from the other instance, on this machine:
//
// fan-out  BENCH_SOCKETS (1000) clients in BENCH_CHANNELS (100) channels, every
//          channel spread over both instances of a pair; one sender in each of
//          BENCH_SENDERS (100) channels. Three pairs, each on its own private
//          redis-server:
//            lattice   two realtime processes as built (dist/apps/realtime/main.js),
//                      connection state recovery on (REALTIME_RECOVERY_MS default),
//                      channel history on (CHANNEL_HISTORY_SIZE default), each client
//                      a signed-in user, each message rate-limited and decided in Redis
//            redis     two bare Socket.IO servers on @socket.io/redis-adapter (pub/sub)
//            streams   two bare Socket.IO servers on @socket.io/redis-streams-adapter,
//                      with Socket.IO's connection state recovery on
//          BENCH_ROUNDS (3) rounds, the pairs' order rotating each round; in each turn:
//            flood  BENCH_SECONDS (10) s, every sender keeping BENCH_IN_FLIGHT (4) messages
//                   unacknowledged (closed loop): messages delivered per second (received
//                   by the other members, the sender left out), send → receive p50/p99
//            paced  BENCH_PACED_SECONDS (5) s at BENCH_RATE (2) messages/s per sender,
//                   far below saturation: send → receive p50/p99 without queueing
//          Each run ends when its messages have stopped arriving (500 ms quiet), so no run
//          measures another's backlog. Throughput ratios are taken within each round (lattice / peer); the CPU time
//          of the pair's processes and of its Redis per delivered message (read from
//          /proc) is the steadiest measure on a shared machine.
// presence BENCH_PRESENCE_SOCKETS (10000) clients (distinct users) on a fresh lattice
//          pair, channels of BENCH_CHANNEL_SIZE (10), half the members on each instance;
//          the members on instance two join first, then those on instance one join at
//          BENCH_JOIN_RATE (1000) per second: join emitted → presence:joined at each
//          member on instance two, p50/p99 (target p99 < 100 ms).
// BENCH_SCENARIO: fanout, presence or both (default). Clients live in
// BENCH_CLIENT_PROCS (2) child processes (fanout-clients.ts), a channel's members in
// one of them. BENCH_NODE_ARGS (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof) is given to
// the lattice realtime processes, stopped with SIGTERM so profiles are written.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { builtEntry, cpuTimeUs, freePort, RedisServer, sleep, waitFor } from '@lattice/testing';
import { createUsers } from '../presence/bench-sessions';
import { median } from '../statistics';
import type {
  FanoutCommand,
  JoinResult,
  RunResult,
  SocketPlan,
  TargetKind,
} from './fanout-clients';

const SCENARIO = process.env.BENCH_SCENARIO ?? 'both';
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1_000);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 100);
const SENDERS = Math.min(CHANNELS, Number(process.env.BENCH_SENDERS ?? 100));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 5);
const RATE = Number(process.env.BENCH_RATE ?? 2);
const PAYLOAD = Number(process.env.BENCH_PAYLOAD ?? 64);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const PRESENCE_SOCKETS = Number(process.env.BENCH_PRESENCE_SOCKETS ?? 10_000);
const CHANNEL_SIZE = Number(process.env.BENCH_CHANNEL_SIZE ?? 10);
const JOIN_RATE = Number(process.env.BENCH_JOIN_RATE ?? 1_000);
const CLIENT_PROCS = Number(process.env.BENCH_CLIENT_PROCS ?? 2);
/** The first part of a flood not measured: senders and servers warm up. */
const WARM_MS = 1_000;
/** The rate-limit overrides' hash (OVERRIDES_KEY of @lattice/rate-limit, KEY_PREFIX empty). */
const OVERRIDES_KEY = 'ratelimit:overrides';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Pair {
  name: string;
  kind: TargetKind;
  redis: RedisServer;
  servers: { port: number; child: ChildProcess; exited: Promise<void> }[];
}

interface Turn {
  rate: number;
  p50: number;
  p99: number;
  pacedP50: number;
  pacedP99: number;
  /** CPU µs of the pair's two processes / of its Redis per delivered message. */
  serverUs: number;
  redisUs: number;
  clientsBusy: number;
  clientsLagP99: number;
  failed: number;
}

class ClientProcs {
  private readonly procs: ChildProcess[] = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      this.procs.push(
        fork(join(__dirname, 'fanout-clients.ts'), [], {
          execArgv: ['-r', join(__dirname, '..', 'register.cjs')],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      );
    }
  }

  get count(): number {
    return this.procs.length;
  }

  /** Sends each process its command and resolves with their answers. */
  ask<T>(command: (index: number) => FanoutCommand | null): Promise<T[]> {
    return Promise.all(
      this.procs.map((proc, index) => {
        const message = command(index);
        if (!message) return Promise.resolve(null as T);
        return new Promise<T>((resolve, reject) => {
          const onExit = (code: number) => reject(new Error(`client process exited with ${code}`));
          proc.once('exit', onExit);
          proc.once('message', (answer: T) => {
            proc.off('exit', onExit);
            resolve(answer);
          });
          proc.send(message);
        });
      }),
    ).then((answers) => answers.filter((a) => a !== null));
  }

  close(): void {
    for (const proc of this.procs) proc.disconnect();
  }
}

async function startServer(
  kind: TargetKind | 'streams',
  redisUrl: string,
): Promise<Pair['servers'][number]> {
  const port = await freePort();
  const args =
    kind === 'lattice'
      ? [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), builtEntry('realtime')]
      : ['-r', join(__dirname, '..', 'register.cjs'), join(__dirname, 'bare-socket-io.server.ts')];
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redisUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      BENCH_ADAPTER: kind === 'streams' ? 'streams' : 'redis',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const probe = kind === 'lattice' ? '/health/ready' : '/socket.io/?EIO=4&transport=polling';
  await waitFor(
    `${kind} server to answer`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${kind} server exited with ${child.exitCode}`);
      const status = (await fetch(`http://127.0.0.1:${port}${probe}`).catch(() => null))?.status;
      // The bare servers take WebSocket only: a polling request answers 400 once they listen.
      return kind === 'lattice' ? status === 200 : status !== undefined;
    },
    60_000,
    200,
  );
  return { port, child, exited };
}

async function startPair(name: string, kind: 'lattice' | 'redis' | 'streams'): Promise<Pair> {
  const redis = await RedisServer.start();
  const serverKind = kind === 'redis' ? 'bare' : kind === 'streams' ? 'streams' : 'lattice';
  const servers = [
    await startServer(serverKind as TargetKind | 'streams', redis.url),
    await startServer(serverKind as TargetKind | 'streams', redis.url),
  ];
  return { name, kind: kind === 'lattice' ? 'lattice' : 'bare', redis, servers };
}

async function stopPair(pair: Pair): Promise<void> {
  for (const server of pair.servers) server.child.kill('SIGTERM');
  await Promise.all(pair.servers.map((s) => s.exited));
  await pair.redis.dispose();
}

const urlsOf = (pair: Pair) => pair.servers.map((s) => `http://127.0.0.1:${s.port}`);
const cpuOf = (pair: Pair) => pair.servers.reduce((sum, s) => sum + cpuTimeUs(s.child.pid!), 0);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const int = (value: number) => Math.round(value).toLocaleString('en-US');

/** Signs users in on a lattice pair's Redis; their channel messages are not rate-limited. */
async function signIn(pair: Pair, count: number, unlimited: boolean) {
  const users = await createUsers(pair.redis.url, count);
  if (unlimited) {
    const raw = pair.redis.client();
    try {
      // Read by the instances at start and on the announcement: the bench measures
      // the fan-out, not the per-user limit of 30 messages in 10 s.
      for (const user of users) {
        await raw.hset(
          OVERRIDES_KEY,
          `channel-message|user:${user.userId}`,
          JSON.stringify({ limit: 1_000_000_000 }),
        );
      }
      await raw.publish(OVERRIDES_KEY, 'bench');
    } finally {
      raw.disconnect();
    }
  }
  return users;
}

/** The fan-out plan: socket i is member floor(i / CHANNELS) of channel i % CHANNELS. */
function fanoutPlans(tokens?: string[]): SocketPlan[] {
  return Array.from({ length: SOCKETS }, (_, key) => {
    const channel = key % CHANNELS;
    const member = Math.floor(key / CHANNELS);
    return {
      key,
      // Every channel spans both instances; its sender (member 0) alternates between them.
      instance: (member + channel) % 2,
      channel: `bench:${channel}`,
      token: tokens?.[key],
      joinNow: true,
    };
  });
}

const procOf = (plan: SocketPlan, procs: number) => Number(plan.channel.split(':')[1]) % procs;

async function turn(pair: Pair, clients: ClientProcs, plans: SocketPlan[]): Promise<Turn> {
  const senders = plans.filter((p) => p.key < SENDERS);
  const run = async (rate: number, seconds: number) => {
    const from = now() + 300;
    const until = from + seconds * 1000;
    const results = await clients.ask<RunResult>((index) => ({
      type: 'run',
      target: pair.name,
      senders: senders.filter((p) => procOf(p, clients.count) === index).map((p) => p.key),
      rate,
      inFlight: IN_FLIGHT,
      payload: PAYLOAD,
      from,
      measureFrom: rate === 0 ? from + WARM_MS : from,
      until,
    }));
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const delivered = results.reduce((sum, r) => sum + r.delivered, 0);
    const total = results.reduce((sum, r) => sum + r.total, 0);
    return {
      results,
      latencies,
      delivered,
      total,
      windowS: (until - from - (rate === 0 ? WARM_MS : 0)) / 1000,
    };
  };
  const serverBefore = cpuOf(pair);
  const redisBefore = cpuTimeUs(pair.redis.pid!);
  const flood = await run(0, SECONDS);
  const serverUs = (cpuOf(pair) - serverBefore) / flood.total;
  const redisUs = (cpuTimeUs(pair.redis.pid!) - redisBefore) / flood.total;
  const paced = await run(RATE, PACED_SECONDS);
  await sleep(500);
  return {
    rate: flood.delivered / flood.windowS,
    p50: percentile(flood.latencies, 50),
    p99: percentile(flood.latencies, 99),
    pacedP50: percentile(paced.latencies, 50),
    pacedP99: percentile(paced.latencies, 99),
    serverUs,
    redisUs,
    clientsBusy: flood.results.reduce((sum, r) => sum + r.cpuMs, 0) / (SECONDS * 1000),
    clientsLagP99: Math.max(...flood.results.map((r) => r.loopDelayP99)),
    failed:
      flood.results.reduce((sum, r) => sum + r.failed, 0) +
      paced.results.reduce((sum, r) => sum + r.failed, 0),
  };
}

async function connectAll(pair: Pair, clients: ClientProcs, plans: SocketPlan[]): Promise<void> {
  const started = now();
  const counts = await clients.ask<{ count: number }>((index) => ({
    type: 'connect',
    target: pair.name,
    kind: pair.kind,
    urls: urlsOf(pair),
    sockets: plans.filter((p) => procOf(p, clients.count) === index),
  }));
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  console.log(`  ${pair.name}: ${total} clients connected and joined in ${ms(now() - started)}`);
}

async function fanout(): Promise<void> {
  const loadStart = loadavg();
  const clients = new ClientProcs(CLIENT_PROCS);
  const pairs: Pair[] = [];
  try {
    console.log(`starting three pairs...`);
    pairs.push(
      await startPair('lattice', 'lattice'),
      await startPair('redis', 'redis'),
      await startPair('streams', 'streams'),
    );
    console.log(`signing ${SOCKETS} users in and connecting ${SOCKETS} clients to each pair...`);
    const users = await signIn(pairs[0], SOCKETS, true);
    await sleep(1_000); // the overrides' announcement reaches both instances
    const plans = new Map<string, SocketPlan[]>();
    for (const pair of pairs) {
      const pairPlans = fanoutPlans(
        pair.kind === 'lattice' ? users.map((u) => u.token) : undefined,
      );
      plans.set(pair.name, pairPlans);
      await connectAll(pair, clients, pairPlans);
    }
    const turns = new Map<string, Turn[]>(pairs.map((p) => [p.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = pairs.map((_, i) => pairs[(i + round) % pairs.length]);
      const line: string[] = [];
      for (const pair of order) {
        const result = await turn(pair, clients, plans.get(pair.name)!);
        turns.get(pair.name)!.push(result);
        line.push(
          `${pair.name} ${int(result.rate)}/s p99 ${ms(result.p99)} (paced ${ms(result.pacedP99)})`,
        );
      }
      console.log(`  round ${round + 1}: ${line.join(' | ')} | load ${loadavg()[0].toFixed(1)}`);
    }

    const ours = turns.get('lattice')!;
    const ratios = (peer: string) => ours.map((t, i) => t.rate / turns.get(peer)![i].rate);
    console.log(
      `\nfan-out: ${SOCKETS} clients in ${CHANNELS} channels over two instances, ` +
        `${SENDERS} senders, ${PAYLOAD}-byte payload, ${ROUNDS} rounds × (${SECONDS} s flood + ` +
        `${PACED_SECONDS} s at ${RATE}/s per sender), ${CLIENT_PROCS} client processes\n`,
    );
    console.log(
      '| pair | delivered/s (median) | flood p50 / p99 | paced p50 / p99 | pair CPU µs / delivery | Redis CPU µs / delivery | failed |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const pair of pairs) {
      const t = turns.get(pair.name)!;
      const med = (f: (x: Turn) => number) => median(t.map(f));
      console.log(
        `| ${pair.name} | ${int(med((x) => x.rate))} | ${ms(med((x) => x.p50))} / ${ms(med((x) => x.p99))} | ` +
          `${ms(med((x) => x.pacedP50))} / ${ms(med((x) => x.pacedP99))} | ${med((x) => x.serverUs).toFixed(1)} | ` +
          `${med((x) => x.redisUs).toFixed(1)} | ${t.reduce((s, x) => s + x.failed, 0)} |`,
      );
    }
    const fmt = (values: number[]) => values.map((v) => `${v.toFixed(2)}×`).join(', ');
    console.log(
      `\nlattice / redis-adapter pair, per round: ${fmt(ratios('redis'))} (median ${median(ratios('redis')).toFixed(2)}×; target ≥ 0.8×)`,
    );
    console.log(
      `lattice / redis-streams-adapter pair, per round: ${fmt(ratios('streams'))} (median ${median(ratios('streams')).toFixed(2)}×)`,
    );
    const all = [...turns.values()].flat();
    console.log(
      `client processes during floods: ${Math.max(...all.map((t) => t.clientsBusy)).toFixed(2)} cores at most, ` +
        `event-loop delay p99 up to ${ms(Math.max(...all.map((t) => t.clientsLagP99)))}`,
    );
    console.log(
      `machine load average (1 / 5 min): start ${loadStart[0].toFixed(1)} / ${loadStart[1].toFixed(1)}, ` +
        `end ${loadavg()[0].toFixed(1)} / ${loadavg()[1].toFixed(1)} on ${cpus().length} cores`,
    );
  } finally {
    for (const pair of pairs) await clients.ask(() => ({ type: 'close', target: pair.name }));
    clients.close();
    for (const pair of pairs) await stopPair(pair);
  }
}

async function presence(): Promise<void> {
  const loadStart = loadavg();
  const clients = new ClientProcs(CLIENT_PROCS);
  let pair: Pair | undefined;
  try {
    pair = await startPair('presence', 'lattice');
    console.log(`signing ${PRESENCE_SOCKETS} users in...`);
    const users = await signIn(pair, PRESENCE_SOCKETS, false);
    // Member k of channel c is socket c * CHANNEL_SIZE + k, on instance k % 2.
    const plans: SocketPlan[] = users.map((user, key) => ({
      key,
      instance: (key % CHANNEL_SIZE) % 2,
      channel: `bench:${Math.floor(key / CHANNEL_SIZE)}`,
      userId: user.userId,
      token: user.token,
      joinNow: (key % CHANNEL_SIZE) % 2 === 1,
    }));
    console.log(`connecting ${PRESENCE_SOCKETS} clients (the members on instance two join)...`);
    await connectAll(pair, clients, plans);
    await sleep(2_000);
    // The members on instance one join, slot 0 of every channel first, at JOIN_RATE.
    const joiners = plans
      .filter((p) => p.instance === 0)
      .sort((a, b) => (a.key % CHANNEL_SIZE) - (b.key % CHANNEL_SIZE) || a.key - b.key);
    const start = now() + 500;
    const due = new Map(joiners.map((p, k) => [p.key, start + (k * 1000) / JOIN_RATE]));
    console.log(`${joiners.length} members on instance one joining at ${JOIN_RATE}/s...`);
    const serverBefore = cpuOf(pair);
    const redisBefore = cpuTimeUs(pair.redis.pid!);
    const results = await clients.ask<JoinResult>((index) => ({
      type: 'join',
      target: 'presence',
      joins: joiners
        .filter((p) => procOf(p, clients.count) === index)
        .map((p) => ({ key: p.key, due: due.get(p.key)! })),
    }));
    const joinSeconds = (now() - start) / 1000;
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const acks = results.flatMap((r) => r.acks).sort((a, b) => a - b);
    const expected = joiners.length * Math.floor(CHANNEL_SIZE / 2);
    console.log(
      `\npresence: ${PRESENCE_SOCKETS} clients over two instances, channels of ${CHANNEL_SIZE}, ` +
        `${joiners.length} joins on instance one at ${JOIN_RATE}/s\n`,
    );
    console.log('| measure | value |');
    console.log('|---|---:|');
    console.log(
      `| join → presence:joined on instance two, p50 / p99 | ${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 99))} |`,
    );
    console.log(
      `| the same, max | ${ms(latencies[latencies.length - 1])} (${latencies.length} events of ${expected} expected) |`,
    );
    console.log(
      `| join acknowledgement, p50 / p99 | ${ms(percentile(acks, 50))} / ${ms(percentile(acks, 99))} (${results.reduce((s, r) => s + r.failed, 0)} failed) |`,
    );
    console.log(
      `| CPU over the join phase, ${joinSeconds.toFixed(1)} s (pair / Redis) | ${((cpuOf(pair) - serverBefore) / 1e6 / joinSeconds).toFixed(2)} / ` +
        `${((cpuTimeUs(pair.redis.pid!) - redisBefore) / 1e6 / joinSeconds).toFixed(2)} cores |`,
    );
    console.log(
      `| machine load average, 1 min (start / end) | ${loadStart[0].toFixed(1)} / ${loadavg()[0].toFixed(1)} on ${cpus().length} cores |`,
    );
    const reasons = [...new Set(results.flatMap((r) => r.reasons))];
    if (reasons.length) console.log(`\nfailed joins: ${reasons.join('; ')}`);
  } finally {
    if (pair) await clients.ask(() => ({ type: 'close', target: 'presence' }));
    clients.close();
    if (pair) await stopPair(pair);
  }
}

async function main(): Promise<void> {
  if (SCENARIO !== 'presence') await fanout();
  if (SCENARIO !== 'fanout') await presence();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
