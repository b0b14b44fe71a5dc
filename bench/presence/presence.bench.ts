// npm run bench:presence — Socket.IO presence at scale on this machine:
//   BENCH_CLIENTS (10000) clients, each a different signed-in user, spread evenly over two
//   realtime instances (real app processes, from source) on one private redis-server;
//   channels of BENCH_CHANNEL_SIZE (10) members, half on each instance; every client joins
//   its channel, BENCH_JOIN_RATE (1000) joins per second.
// Reports: join-to-remote-event latency (a join emitted by a client of one instance until
// each member on the other instance receives presence:joined; p50, p99), the join
// acknowledgement's latency, memory per connection (each instance's RSS and V8 heap from
// /metrics, before and after), Redis memory per connection, and the reap time after one
// instance is SIGKILLed (until the other instance's clients have presence:left for all of
// its users), with PRESENCE_HEARTBEAT_MS / PRESENCE_TTL_MS as given (defaults 5000 / 15000).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { freePort, RedisServer, sleep, waitFor } from '@lattice/testing';
import { createUsers, type BenchUser } from './bench-sessions';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10_000);
const CHANNEL_SIZE = Number(process.env.BENCH_CHANNEL_SIZE ?? 10);
const JOIN_RATE = Number(process.env.BENCH_JOIN_RATE ?? 1_000);
const CONNECT_PARALLEL = Number(process.env.BENCH_CONNECT_PARALLEL ?? 100);
const HEARTBEAT_MS = process.env.PRESENCE_HEARTBEAT_MS ?? '5000';
const TTL_MS = process.env.PRESENCE_TTL_MS ?? '15000';
const ROOT = join(__dirname, '..', '..');

interface Instance {
  name: string;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

interface Client {
  user: BenchUser;
  instance: number;
  channel: string;
  socket: Socket;
}

interface Memory {
  rss: number;
  heap: number;
  /** CPU seconds used so far. */
  cpu: number;
}

async function startInstance(name: string, redisUrl: string): Promise<Instance> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--expose-gc',
      '-r',
      join(__dirname, 'gc-on-signal.cjs'),
      '-r',
      join(ROOT, 'bench', 'register.cjs'),
      join(ROOT, 'apps', 'realtime', 'src', 'main.ts'),
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: redisUrl,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        PRESENCE_HEARTBEAT_MS: HEARTBEAT_MS,
        PRESENCE_TTL_MS: TTL_MS,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    `${name} to be ready`,
    async () =>
      (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.status === 200,
    60_000,
    200,
  );
  return { name, port, child, exited };
}

/** The instance's memory (after a full garbage collection, unless `collect` is false) and CPU time so far. */
async function memoryOf(instance: Instance, collect = true): Promise<Memory> {
  if (collect) {
    instance.child.kill('SIGUSR2');
    await sleep(500);
  }
  const text = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
  const metric = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: metric('process_resident_memory_bytes'),
    heap: metric('nodejs_heap_size_used_bytes'),
    cpu: metric('process_cpu_seconds_total'),
  };
}

async function redisStats(redis: RedisServer): Promise<{ memory: number; cpu: number }> {
  const raw = redis.client();
  try {
    const info = (await raw.info()) as string;
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1]);
    return { memory: field('used_memory'), cpu: field('used_cpu_user') + field('used_cpu_sys') };
  } finally {
    raw.disconnect();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function connect(instance: Instance, user: BenchUser): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${instance.port}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token: user.token },
    timeout: 30_000,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => reject(error));
  });
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0];
  const redis = await RedisServer.start();
  const instances: Instance[] = [];
  const clients: Client[] = [];
  try {
    instances.push(await startInstance('one', redis.url), await startInstance('two', redis.url));
    console.log(`creating ${CLIENTS} users and sessions...`);
    const users = await createUsers(redis.url, CLIENTS);
    await sleep(1_000);
    const before = await Promise.all(instances.map((i) => memoryOf(i)));
    const redisBefore = await redisStats(redis);

    // Connect: member k of a channel goes to instance k % 2, so every channel spans both.
    console.log(`connecting ${CLIENTS} clients...`);
    const connectStarted = performance.now();
    const joinedAt = new Map<string, number>();
    const remoteLatency: number[] = [];
    const leftAt = new Map<string, number>();
    let nextClient = 0;
    const connectOne = async () => {
      while (nextClient < users.length) {
        const i = nextClient++;
        const instance = i % 2;
        const socket = await connect(instances[instance], users[i]);
        const client: Client = {
          user: users[i],
          instance,
          channel: `bench:${Math.floor(i / CHANNEL_SIZE)}`,
          socket,
        };
        socket.on('presence:joined', ({ member }: { member: { userId: string } }) => {
          const emitted = joinedAt.get(member.userId);
          const joiner = Number(member.userId) - 1;
          if (emitted !== undefined && joiner % 2 !== instance) {
            remoteLatency.push(performance.now() - emitted);
          }
        });
        socket.on('presence:left', ({ member }: { member: { userId: string } }) => {
          if (!leftAt.has(member.userId)) leftAt.set(member.userId, performance.now());
        });
        clients[i] = client;
      }
    };
    await Promise.all(Array.from({ length: CONNECT_PARALLEL }, connectOne));
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    await sleep(2_000);
    const connected = await Promise.all(instances.map((i) => memoryOf(i)));
    const redisConnected = await redisStats(redis);
    const driverLag = monitorEventLoopDelay({ resolution: 10 });
    const driverCpu = process.cpuUsage();
    driverLag.enable();

    // Join: slot 0 of every channel first, then slot 1, ..., at JOIN_RATE per second.
    console.log(`joining ${CLIENTS} clients at ${JOIN_RATE}/s...`);
    const order = [...clients].sort(
      (a, b) =>
        ((Number(a.user.userId) - 1) % CHANNEL_SIZE) - ((Number(b.user.userId) - 1) % CHANNEL_SIZE),
    );
    const ackLatency: number[] = [];
    const failures: string[] = [];
    const acks: Promise<void>[] = [];
    const joinStarted = performance.now();
    for (let k = 0; k < order.length; k++) {
      const due = joinStarted + (k * 1000) / JOIN_RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const client = order[k];
      const emitted = performance.now();
      joinedAt.set(client.user.userId, emitted);
      acks.push(
        client.socket
          .timeout(30_000)
          .emitWithAck('presence:join', { channel: client.channel, meta: { bench: true } })
          .then(
            (ack: { ok: boolean; code?: string }) => {
              if (ack.ok) ackLatency.push(performance.now() - emitted);
              else failures.push(ack.code ?? 'unknown');
            },
            () => void failures.push('timeout'),
          ),
      );
    }
    await Promise.all(acks);
    const joinSeconds = (performance.now() - joinStarted) / 1000;
    driverLag.disable();
    const driverCpuUsed = process.cpuUsage(driverCpu);
    const joinedCpu = await Promise.all(instances.map((i) => memoryOf(i, false)));
    const redisJoinedCpu = await redisStats(redis);
    const busy = (cpuSeconds: number) => `${Math.round((cpuSeconds / joinSeconds) * 100)}%`;
    console.log(`joined: ${ackLatency.length} acknowledged, ${failures.length} failed`);
    // Member k of a channel (instance k % 2) is heard of by the earlier members on the other
    // instance: ceil(k / 2) of them. A member may also hear of a join its own acknowledgement
    // already listed (it enters the room just before its join is decided), so more can arrive.
    let pairsPerChannel = 0;
    for (let k = 1; k < CHANNEL_SIZE; k++) pairsPerChannel += Math.ceil(k / 2);
    const expected = Math.floor(CLIENTS / CHANNEL_SIZE) * pairsPerChannel;
    let settled = -1;
    while (remoteLatency.length !== settled) {
      settled = remoteLatency.length;
      await sleep(1_000);
    }
    const joined = await Promise.all(instances.map((i) => memoryOf(i)));
    const redisJoined = await redisStats(redis);

    // Crash: SIGKILL instance one; its users must leave on instance two's clients.
    console.log(
      `killing instance one (${clients.filter((c) => c.instance === 0).length} clients)...`,
    );
    const victims = new Set(clients.filter((c) => c.instance === 0).map((c) => c.user.userId));
    leftAt.clear();
    const killedAt = performance.now();
    instances[0].child.kill('SIGKILL');
    await instances[0].exited;
    await waitFor(
      'every user of the dead instance to leave',
      () => [...victims].every((id) => leftAt.has(id)),
      Number(TTL_MS) + Number(HEARTBEAT_MS) + Number(process.env.BENCH_REAP_WAIT ?? 120_000),
      20,
    ).catch((error: unknown) => {
      const missing = [...victims].filter((id) => !leftAt.has(id));
      console.log(
        `${missing.length} users of the dead instance never left: ${missing.slice(0, 10).join(', ')}`,
      );
      throw error;
    });
    const leaves = [...victims].map((id) => leftAt.get(id)! - killedAt).sort((a, b) => a - b);

    const sorted = [...remoteLatency].sort((a, b) => a - b);
    const sortedAcks = [...ackLatency].sort((a, b) => a - b);
    const perConnection = (after: Memory[], field: keyof Memory) =>
      after.reduce((sum, m, i) => sum + (m[field] - before[i][field]), 0) / CLIENTS;

    console.log(
      `\npresence benchmark: ${CLIENTS} clients (distinct users) over 2 realtime instances,`,
    );
    console.log(
      `channels of ${CHANNEL_SIZE} (half on each instance), joins at ${JOIN_RATE}/s, ` +
        `PRESENCE_HEARTBEAT_MS=${HEARTBEAT_MS} PRESENCE_TTL_MS=${TTL_MS}\n`,
    );
    console.log('| measure | value |');
    console.log('|---|---:|');
    console.log(`| clients connected | ${clients.length} in ${connectSeconds.toFixed(1)} s |`);
    console.log(
      `| joins acknowledged | ${ackLatency.length} in ${joinSeconds.toFixed(1)} s (${failures.length} failed) |`,
    );
    console.log(`| join → remote presence:joined, p50 | ${ms(percentile(sorted, 50))} |`);
    console.log(`| join → remote presence:joined, p99 | ${ms(percentile(sorted, 99))} |`);
    console.log(
      `| join → remote presence:joined, max | ${ms(sorted[sorted.length - 1])} (${sorted.length} events for ${expected} join/remote-member pairs) |`,
    );
    console.log(
      `| join acknowledgement, p50 / p99 | ${ms(percentile(sortedAcks, 50))} / ${ms(percentile(sortedAcks, 99))} |`,
    );
    console.log(
      `| server RSS per connection (connected / joined) | ${kib(perConnection(connected, 'rss'))} / ${kib(perConnection(joined, 'rss'))} |`,
    );
    console.log(
      `| server V8 heap per connection (connected / joined) | ${kib(perConnection(connected, 'heap'))} / ${kib(perConnection(joined, 'heap'))} |`,
    );
    console.log(
      `| server RSS after joins (one / two) | ${mib(joined[0].rss)} / ${mib(joined[1].rss)} |`,
    );
    console.log(
      `| Redis memory per joined connection | ${((redisJoined.memory - redisBefore.memory) / CLIENTS).toFixed(0)} B |`,
    );
    console.log(
      `| CPU during joins (one / two / Redis / bench clients) | ${joinedCpu.map((m, i) => busy(m.cpu - connected[i].cpu)).join(' / ')} / ` +
        `${busy(redisJoinedCpu.cpu - redisConnected.cpu)} / ${busy((driverCpuUsed.user + driverCpuUsed.system) / 1e6)} of a core |`,
    );
    console.log(
      `| bench clients' event-loop delay during joins, p99 | ${ms(driverLag.percentile(99) / 1e6)} |`,
    );
    console.log(`| SIGKILL → first presence:left | ${ms(leaves[0])} |`);
    console.log(
      `| SIGKILL → all ${victims.size} users left (reap time) | ${ms(leaves[leaves.length - 1])} |`,
    );
    console.log(
      `| bound (PRESENCE_TTL_MS + PRESENCE_HEARTBEAT_MS) | ${Number(TTL_MS) + Number(HEARTBEAT_MS)} ms |`,
    );
    console.log(
      `| machine load average, 1 min (start / end) | ${loadBefore.toFixed(1)} / ${loadavg()[0].toFixed(1)} on ${cpus().length} cores |`,
    );
    if (failures.length) console.log(`\nfailed joins: ${[...new Set(failures)].join(', ')}`);
  } finally {
    for (const client of clients) client?.socket.close();
    // Stopped gracefully, so a profile asked for with BENCH_NODE_ARGS=--cpu-prof is written.
    for (const instance of instances) instance.child.kill('SIGTERM');
    await Promise.all(instances.map((i) => i.exited));
    await redis.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
