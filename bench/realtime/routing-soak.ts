/**
 * Soak for Socket.IO routing and connection recovery (issue 22): the CI specs
 * (test/e2e/realtime-transports, realtime-recovery-faults) in seconds, this
 * for minutes. Three realtime instances behind two gateways, round-robin
 * balancers everywhere (no stickiness), clients of every transport talking
 * in three channels, while realtime instances are restarted (SIGTERM) and
 * killed (SIGKILL) in turn. At the end every client's messages are checked
 * against each channel's history in Redis: nothing missed, nothing twice,
 * in order. Exits 1 when a check fails.
 *
 *   npm run bench:realtime-soak                  # 3 minutes
 *   SOAK_SECONDS=600 npm run bench:realtime-soak
 */
import { loadavg } from 'node:os';
import { sleep, waitFor } from '@lattice/testing';
import type { Account } from '../../test/fixtures/presence/accounts';
import {
  RealtimeClient,
  RECONNECTING,
  type ClientOptions,
  type KeptMessage,
} from '../../test/fixtures/realtime/realtime-client';
import { RealtimeStack } from '../../test/fixtures/realtime/realtime-stack';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const PER_TRANSPORT = Number(process.env.SOAK_CLIENTS ?? 4);
const SEND_EVERY_MS = 300;
const FAULT_EVERY_MS = 20_000;
const TRANSPORTS: [string, ClientOptions][] = [
  ['default', {}],
  ['polling', { transports: ['polling'] }],
  ['websocket', { transports: ['websocket'] }],
];
const CHANNELS = TRANSPORTS.map(([name]) => `soak-${name}`);

/** One soak client: its transport's channel to talk in, every channel to listen to. */
interface Talker {
  client: RealtimeClient;
  transport: string;
  channel: string;
  /** channel → the offset its first join was current to. */
  since: Map<string, string>;
  /** channel → messages fetched from the history after a reconnect that was not recovered. */
  refetched: Map<string, KeptMessage[]>;
  sent: number;
  failedSends: number;
}

function log(line: string): void {
  console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
}

async function joinAll(talker: Talker): Promise<void> {
  for (const channel of CHANNELS) {
    const ack = await talker.client.emit('presence:join', { channel });
    if (!ack.ok) throw new Error(`join ${channel}: ${ack.code}`);
    if (!talker.since.has(channel)) talker.since.set(channel, ack.offset as string);
  }
}

/** A connection that came back unrecovered: join again, fetch what was missed (docs/presence.md). */
async function rejoin(talker: Talker): Promise<void> {
  // How far it got in each channel, before joining again brings live events.
  const lasts = new Map<string, string>();
  for (const channel of CHANNELS) {
    const own = talker.client.of(channel).filter((e) => e.event === 'channel:message');
    const refetched = talker.refetched.get(channel) ?? [];
    const last = [own.at(-1)?.offset, refetched.at(-1)?.offset, talker.since.get(channel)]
      .filter((o): o is string => o !== undefined)
      .sort()
      .at(-1) as string;
    lasts.set(channel, last);
  }
  await joinAll(talker);
  for (const channel of CHANNELS) {
    const refetched = talker.refetched.get(channel) ?? [];
    refetched.push(...(await talker.client.history(channel, lasts.get(channel) as string)));
    talker.refetched.set(channel, refetched);
  }
}

async function talk(talker: Talker, until: () => boolean): Promise<void> {
  while (!until()) {
    await sleep(SEND_EVERY_MS);
    if (!talker.client.socket.connected) continue;
    const ack = await talker.client
      .emit('channel:message', { channel: talker.channel, data: { n: talker.sent + 1 } })
      .catch(() => ({ ok: false }));
    if (ack.ok) talker.sent++;
    else talker.failedSends++;
  }
}

async function main(): Promise<void> {
  log(`starting: 3 realtime, 2 gateways, ${PER_TRANSPORT} clients per transport, ${SECONDS} s`);
  const stack = await RealtimeStack.start({
    realtime: 3,
    gateways: 2,
    admin: true,
    env: { REALTIME_RECOVERY_MS: '30000', CHANNEL_HISTORY_SIZE: '10000' },
  });
  const failures: string[] = [];
  try {
    const talkers: Talker[] = [];
    for (const [transport, options] of TRANSPORTS) {
      for (let i = 0; i < PER_TRANSPORT; i++) {
        const who: Account = await stack.account(`soak${transport}`);
        await stack.allowMessages(who, 1_000_000);
        const client = await RealtimeClient.connect(stack.url, who, {
          ...RECONNECTING,
          ...options,
        });
        const talker: Talker = {
          client,
          transport,
          channel: `soak-${transport}`,
          since: new Map(),
          refetched: new Map(),
          sent: 0,
          failedSends: 0,
        };
        await joinAll(talker);
        client.socket.on('connect', () => {
          if (!client.socket.recovered) {
            rejoin(talker).catch((error: unknown) => failures.push(`rejoin: ${String(error)}`));
          }
        });
        talkers.push(talker);
      }
    }
    const handshakesBefore = stack.balancer.hits.reduce((a, b) => a + b, 0);
    log(`${talkers.length} clients connected and joined; talking`);

    const end = Date.now() + SECONDS * 1000;
    const talking = Promise.all(talkers.map((t) => talk(t, () => Date.now() > end)));
    const faults: string[] = [];
    for (let n = 0; Date.now() + FAULT_EVERY_MS < end; n++) {
      await sleep(FAULT_EVERY_MS);
      const index = n % stack.realtime.length;
      const signal = n % 2 ? 'SIGKILL' : 'SIGTERM';
      const started = Date.now();
      await stack.restartRealtime(index, signal);
      faults.push(`${signal} realtime ${index} (back in ${Date.now() - started} ms)`);
      log(faults[faults.length - 1]);
    }
    await talking;
    for (const { client } of talkers) {
      await waitFor(`${client.login} to be connected`, () => client.socket.connected, 60_000);
    }
    await sleep(2_000);

    // The reference: each channel's kept messages; every client must have each one after its join, once, in order.
    const reader = talkers[0].client;
    let messages = 0;
    for (const channel of CHANNELS) {
      const kept = await reader.history(channel, '0');
      messages += kept.length;
      for (const talker of talkers) {
        const since = talker.since.get(channel) as string;
        const live = talker.client
          .of(channel)
          .filter((e) => e.event === 'channel:message')
          .map((e) => e.offset);
        const offsets = talker.client.of(channel).map((e) => e.offset);
        if (new Set(offsets).size !== offsets.length) {
          failures.push(`${talker.client.login} got an event of ${channel} twice`);
        }
        if (offsets.some((o, i) => i > 0 && o <= offsets[i - 1])) {
          failures.push(`${talker.client.login} got events of ${channel} out of order`);
        }
        const had = new Set([
          ...live,
          ...(talker.refetched.get(channel) ?? []).map((m) => m.offset),
        ]);
        // A connection is not sent its own messages (docs/presence.md).
        const missing = kept.filter(
          (m) => m.offset > since && m.from.login !== talker.client.login && !had.has(m.offset),
        );
        if (missing.length) {
          const recovered = talker.client.reconnections.join(',');
          failures.push(
            `${talker.client.login} missed ${missing.length} messages of ${channel} (reconnections recovered: ${recovered}; first missed ${missing[0].offset})`,
          );
        }
      }
    }
    const reconnections = talkers.flatMap((t) => t.client.reconnections);
    const handshakes = stack.balancer.hits.reduce((a, b) => a + b, 0) - handshakesBefore;
    console.log(
      JSON.stringify(
        {
          seconds: SECONDS,
          clients: talkers.length,
          faults,
          messagesKept: messages,
          sent: talkers.reduce((a, t) => a + t.sent, 0),
          failedSends: talkers.reduce((a, t) => a + t.failedSends, 0),
          reconnections: reconnections.length,
          recovered: reconnections.filter(Boolean).length,
          handshakesThroughBalancer: handshakes,
          gatewayHits: stack.front?.hits,
          loadAverage: loadavg().map((l) => l.toFixed(1)),
          failures,
        },
        null,
        2,
      ),
    );
    for (const { client } of talkers) client.close();
  } finally {
    await stack.dispose();
  }
  process.exit(failures.length ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
