// Bench only: a child process of bench:realtime holding a share of the
// Socket.IO clients, so that receiving (not one Node.js event loop on the
// driver's side) bounds the measurement as little as it can. It obeys the
// driver's messages (see FanoutCommand) and answers each with one message.
// Times are process.hrtime (CLOCK_MONOTONIC, the same in every process of the
// machine), in ms, so a receiver can time a message stamped by another process.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';

export interface SocketPlan {
  /** The socket's number in the whole run. */
  key: number;
  instance: number;
  channel: string;
  userId?: string;
  token?: string;
  /** Joins its channel as soon as it is connected. */
  joinNow: boolean;
}

export type TargetKind = 'lattice' | 'bare';

export type FanoutCommand =
  | { type: 'connect'; target: string; kind: TargetKind; urls: string[]; sockets: SocketPlan[] }
  | {
      type: 'run';
      target: string;
      senders: number[];
      /** Messages per second per sender; 0: as fast as acknowledgements come back (closed loop). */
      rate: number;
      /** Closed loop: messages each sender keeps unacknowledged. */
      inFlight: number;
      payload: number;
      from: number;
      measureFrom: number;
      until: number;
    }
  | { type: 'join'; target: string; joins: { key: number; due: number }[] }
  | { type: 'close'; target: string };

export interface RunResult {
  type: 'result';
  delivered: number;
  /** Every delivery of the run, warm-up and drain included. */
  total: number;
  /** Send → receive of each delivery in the window, ms. */
  latencies: number[];
  sent: number;
  failed: number;
  cpuMs: number;
  loopDelayP99: number;
}

export interface JoinResult {
  type: 'joined';
  /** Join emitted here → presence:joined at a member on the other instance (1), ms. */
  latencies: number[];
  acks: number[];
  failed: number;
  /** Why joins failed, each reason once. */
  reasons: string[];
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Client {
  plan: SocketPlan;
  socket: Socket;
}

const targets = new Map<string, { kind: TargetKind; clients: Map<number, Client> }>();
/** The window of the run in progress, if any. */
let window: {
  from: number;
  until: number;
  delivered: number;
  latencies: number[];
  /** Every delivery of the run, drain included. */
  total: number;
} | null = null;
/** Presence scenario: the user id of each join emitted, with when. */
const joinedAt = new Map<string, number>();
const joinLatencies: number[] = [];
/** When the last channel:message arrived, for the drain at the end of a run. */
let lastMessageAt = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const reply = (message: unknown) =>
  new Promise<void>((resolve) => process.send!(message, () => resolve()));

function connect(kind: TargetKind, url: string, plan: SocketPlan): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
    ...(plan.token ? { auth: { token: plan.token } } : {}),
  });
  socket.on('channel:message', (message: { data: { t: number } }) => {
    const at = now();
    lastMessageAt = at;
    if (window) window.total++;
    if (!window || at < window.from || at > window.until) return;
    window.delivered++;
    window.latencies.push(Math.round((at - message.data.t) * 100) / 100);
  });
  if (kind === 'lattice' && plan.instance === 1) {
    socket.on('presence:joined', ({ member }: { member: { userId: string } }) => {
      const emitted = joinedAt.get(member.userId);
      if (emitted !== undefined) joinLatencies.push(now() - emitted);
    });
  }
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => reject(error));
  });
}

async function join(kind: TargetKind, client: Client): Promise<void> {
  const event = kind === 'lattice' ? 'presence:join' : 'join';
  const ack = (await client.socket
    .timeout(60_000)
    .emitWithAck(event, { channel: client.plan.channel })) as { ok: boolean; code?: string };
  if (!ack.ok) throw new Error(`join of ${client.plan.channel} refused: ${ack.code}`);
}

async function onConnect(command: Extract<FanoutCommand, { type: 'connect' }>): Promise<void> {
  const clients = new Map<number, Client>();
  targets.set(command.target, { kind: command.kind, clients });
  let next = 0;
  const worker = async () => {
    while (next < command.sockets.length) {
      const plan = command.sockets[next++];
      const socket = await connect(command.kind, command.urls[plan.instance], plan);
      const client = { plan, socket };
      clients.set(plan.key, client);
      if (plan.joinNow) await join(command.kind, client);
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  await reply({ type: 'connected', count: clients.size });
}

async function onRun(command: Extract<FanoutCommand, { type: 'run' }>): Promise<void> {
  const target = targets.get(command.target)!;
  const senders = command.senders.map((key) => target.clients.get(key)!);
  const pad = 'x'.repeat(command.payload);
  window = {
    from: command.measureFrom,
    until: command.until,
    delivered: 0,
    latencies: [],
    total: 0,
  };
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const cpu = process.cpuUsage();
  lag.enable();
  let sent = 0;
  let failed = 0;
  const send = async (client: Client) => {
    sent++;
    const data = { t: now(), pad };
    try {
      const ack = (await client.socket
        .timeout(10_000)
        .emitWithAck('channel:message', { channel: client.plan.channel, data })) as {
        ok: boolean;
      };
      if (!ack.ok) failed++;
    } catch {
      failed++;
    }
  };
  await sleep(Math.max(0, command.from - now()));
  const pending: Promise<void>[] = [];
  await Promise.all(
    senders.map(async (client, index) => {
      if (command.rate === 0) {
        const loop = async () => {
          while (now() < command.until) await send(client);
        };
        await Promise.all(Array.from({ length: command.inFlight }, loop));
        return;
      }
      // Paced (open loop): the senders' phases spread over one interval.
      const interval = 1000 / command.rate;
      for (let k = 0; ; k++) {
        const due = command.from + ((index / senders.length) * interval + k * interval);
        if (due >= command.until) break;
        const wait = due - now();
        if (wait > 1) await sleep(wait);
        pending.push(send(client));
      }
    }),
  );
  await Promise.all(pending);
  await sleep(Math.max(0, command.until - now()) + 200);
  // Drained: what is still queued (in Redis, a stream, a server) arrives before the
  // next run starts, so that no run measures another's backlog.
  const drainUntil = now() + 60_000;
  while (now() - lastMessageAt < 500 && now() < drainUntil) await sleep(100);
  lag.disable();
  const used = process.cpuUsage(cpu);
  const result: RunResult = {
    type: 'result',
    delivered: window.delivered,
    total: window.total,
    latencies: window.latencies,
    sent,
    failed,
    cpuMs: (used.user + used.system) / 1000,
    loopDelayP99: lag.percentile(99) / 1e6,
  };
  window = null;
  await reply(result);
}

async function onJoin(command: Extract<FanoutCommand, { type: 'join' }>): Promise<void> {
  const target = targets.get(command.target)!;
  joinLatencies.length = 0;
  const acks: number[] = [];
  let failed = 0;
  const reasons = new Set<string>();
  const pending: Promise<void>[] = [];
  for (const { key, due } of command.joins) {
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const client = target.clients.get(key)!;
    const emitted = now();
    joinedAt.set(client.plan.userId!, emitted);
    pending.push(
      join(target.kind, client).then(
        () => void acks.push(now() - emitted),
        (error: Error) => {
          failed++;
          reasons.add(error.message);
        },
      ),
    );
  }
  await Promise.all(pending);
  // The last presence:joined events may follow the last acknowledgement.
  let settled = -1;
  while (joinLatencies.length !== settled) {
    settled = joinLatencies.length;
    await sleep(1_000);
  }
  const result: JoinResult = {
    type: 'joined',
    latencies: [...joinLatencies],
    acks,
    failed,
    reasons: [...reasons].slice(0, 5),
  };
  await reply(result);
}

function onClose(command: Extract<FanoutCommand, { type: 'close' }>): Promise<void> {
  for (const client of targets.get(command.target)?.clients.values() ?? []) client.socket.close();
  targets.delete(command.target);
  return reply({ type: 'closed' });
}

process.on('message', (command: FanoutCommand) => {
  const handled =
    command.type === 'connect'
      ? onConnect(command)
      : command.type === 'run'
        ? onRun(command)
        : command.type === 'join'
          ? onJoin(command)
          : onClose(command);
  handled.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
