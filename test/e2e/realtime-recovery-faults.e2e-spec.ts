import { PresenceModule, PresencePublisher } from '@lattice/presence';
import { RedisService } from '@lattice/redis';
import { startPlatform, waitFor } from '@lattice/testing';
import type { Account } from '../fixtures/presence/accounts';
import { NetworkLink } from '../fixtures/realtime/network-link';
import { RealtimeClient, RECONNECTING, type Seen } from '../fixtures/realtime/realtime-client';
import { RealtimeStack } from '../fixtures/realtime/realtime-stack';

const WINDOW_MS = 10_000;
/** Messages each sender sends at least during the rolling restart. */
const PER_SENDER = 700;
const SENDERS = 3;

/**
 * CONTRACT 8.3, issue 22 point 2: connection state recovery when things go
 * wrong — the client's network drops, its instance is killed, every instance
 * is restarted in turn while thousands of messages flow. A recovered client
 * has every message of its channel exactly once and in order, checked
 * against the channel's history in Redis; a client that cannot be recovered
 * is told so (`socket.recovered === false`) and joins again with the current
 * member list and the history it missed.
 */
describe('Socket.IO connection recovery through network loss, SIGKILL and a rolling restart', () => {
  let stack: RealtimeStack;
  let link: NetworkLink;
  const clients: RealtimeClient[] = [];

  beforeAll(async () => {
    stack = await RealtimeStack.start({
      admin: true,
      env: { REALTIME_RECOVERY_MS: String(WINDOW_MS), CHANNEL_HISTORY_SIZE: '10000' },
    });
    link = await NetworkLink.start(stack.url);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await link?.close();
    await stack?.dispose();
  });

  const connect = async (who: Account, url = stack.url, options = RECONNECTING) => {
    const client = await RealtimeClient.connect(url, who, options);
    clients.push(client);
    return client;
  };
  const join = async (client: RealtimeClient, channel: string) => {
    const ack = await client.emit('presence:join', { channel });
    expect(ack).toMatchObject({ ok: true });
    return ack;
  };
  const say = async (client: RealtimeClient, channel: string, data: unknown) =>
    expect(await client.emit('channel:message', { channel, data })).toEqual({ ok: true });
  /** Every message the channel kept after `since`, oldest first (paged as docs/presence.md says). */
  /** The messages a client received in `channel` after `since`, as [offset, data]. */
  const received = (client: RealtimeClient, channel: string, since = '0') =>
    client
      .of(channel)
      .filter((e) => e.event === 'channel:message' && e.offset > since)
      .map((e) => [e.offset, e.data]);
  const expectOnceInOrder = (seen: Seen[]) => {
    const offsets = seen.map((e) => e.offset);
    expect(new Set(offsets).size).toBe(offsets.length);
    expect([...offsets].sort()).toEqual(offsets);
  };

  it('recovers a client whose network dropped: every missed event once, in order, and nobody saw it leave', async () => {
    const channel = 'network';
    const [dropper, witness, sender] = await Promise.all(
      ['dropper', 'witness', 'sender'].map((p) => stack.account(p)),
    );
    const dropped = await connect(dropper, link.url);
    const joinedAt = (await join(dropped, channel)).offset as string;
    const watching = await connect(witness);
    await join(watching, channel);
    const sending = await connect(sender);
    await join(sending, channel);
    await waitFor('the dropped client to see both join', () =>
      dropped.of(channel).filter((e) => e.event === 'presence:joined').length === 2
        ? true
        : undefined,
    );

    const gone = new Promise((resolve) => dropped.socket.once('disconnect', resolve));
    link.cut();
    await gone;
    for (let i = 1; i <= 20; i++) await say(sending, channel, i);
    expect(await watching.emit('presence:update', { channel, meta: { away: true } })).toEqual({
      ok: true,
    });
    expect(await stack.members(witness, channel)).toContain(dropper.login);
    link.restore();

    await waitFor('the client to come back', () =>
      dropped.reconnections.length ? true : undefined,
    );
    expect(dropped.reconnections).toEqual([true]);
    await waitFor('the missed update', () =>
      dropped.of(channel).find((e) => e.event === 'presence:updated'),
    );
    await say(sending, channel, 'live');
    await waitFor('a live message', () => dropped.of(channel).find((e) => e.data === 'live'));
    const kept = await watching.history(channel, joinedAt);
    expect(received(dropped, channel, joinedAt)).toEqual(kept.map((m) => [m.offset, m.data]));
    expectOnceInOrder(dropped.of(channel));
    expect(watching.of(channel).filter((e) => e.who === dropper.login)).toEqual([]);
    expect(await stack.members(witness, channel)).toEqual(
      [dropper.login, sender.login, witness.login].sort(),
    );
  });

  it('recovers a client whose last event was a publisher’s with a bare string payload', async () => {
    const channel = 'published';
    const [reader, sender] = await Promise.all(['reader', 'sender'].map((p) => stack.account(p)));
    const reading = await connect(reader, link.url);
    await join(reading, channel);
    const sending = await connect(sender);
    await join(sending, channel);
    const notes: unknown[] = [];
    reading.socket.on('note', (text: unknown) => notes.push(text));
    await say(sending, channel, 'first');
    await waitFor('the first message', () => reading.of(channel).find((e) => e.data === 'first'));

    // An app announces something to the channel with a plain string (PresencePublisher).
    const platform = await startPlatform({ env: stack.redis.env, imports: [PresenceModule] });
    try {
      await platform.get(RedisService).whenReady(5_000);
      await platform.get(PresencePublisher).publish(channel, 'note', 'closing at five');
      await waitFor('the note', () => (notes.length ? true : undefined));
    } finally {
      await platform.close();
    }
    expect(notes).toEqual(['closing at five']);

    link.cut();
    await waitFor('the drop', () => (reading.socket.connected ? undefined : true));
    for (const data of ['second', 'third']) await say(sending, channel, data);
    link.restore();
    await waitFor('the client to come back', () =>
      reading.reconnections.length ? true : undefined,
    );
    expect(reading.reconnections).toEqual([true]);
    await waitFor('the missed messages', () => reading.of(channel).find((e) => e.data === 'third'));
    expect(
      reading
        .of(channel)
        .filter((e) => e.event === 'channel:message')
        .map((e) => e.data),
    ).toEqual(['first', 'second', 'third']);
  });

  it('after SIGKILL of its instance, a connected client and a parked one are both recovered: every missed message once, in order, and still members', async () => {
    const channel = 'killed';
    const [live, parked, witness] = await Promise.all(
      ['live', 'parked', 'onlooker'].map((p) => stack.account(p)),
    );
    await stack.allowMessages(witness, 1000);
    const living = await connect(live);
    const victimUrl = await stack.ownerOf(living.engineId);
    const victim = stack.realtime.findIndex((app) => app.url('') === victimUrl);
    const survivor = stack.realtime[1 - victim];
    // The parked client on the same instance, through its own network.
    let parking = await connect(parked, link.url);
    for (let tries = 0; (await stack.ownerOf(parking.engineId)) !== victimUrl; tries++) {
      expect(tries).toBeLessThan(5);
      parking.close();
      parking = await connect(parked, link.url);
    }
    // The witness straight on the instance that stays.
    const watching = await connect(witness, survivor.url(''), { transports: ['websocket'] });
    for (const client of [living, parking, watching]) await join(client, channel);
    // The connected client is in two more channels: its position names all three.
    const others = [`${channel}-2`, `${channel}-3`];
    for (const other of others) {
      await join(watching, other);
      await join(living, other);
    }
    for (const each of [channel, ...others]) await say(watching, each, 'before');
    await waitFor('both to hear the witness', () =>
      [living, parking].every((c) => c.of(channel).some((e) => e.data === 'before')) &&
      others.every((other) => living.of(other).some((e) => e.data === 'before'))
        ? true
        : undefined,
    );

    // The parked client's network drops, and its instance sees it go (its record's
    // expiry is brought down to the window); then the instance is killed.
    link.cut();
    await waitFor('the dropped connection’s window to start', async () => {
      const client = stack.redis.client();
      const ttls = await Promise.all(
        (await stack.redis.keys('realtime:recovery:*')).map((key) => client.pttl(key)),
      );
      return ttls.some((ttl) => ttl > 0 && ttl <= WINDOW_MS) ? true : undefined;
    });
    const gone = new Promise((resolve) => living.socket.once('disconnect', resolve));
    await stack.realtime[victim].kill();
    try {
      await gone;
      await afterTheKill();
    } finally {
      // Back for the next test, whatever happened here.
      await stack.restartRealtime(victim, 'SIGKILL');
    }
    async function afterTheKill() {
      for (let i = 1; i <= 10; i++) {
        for (const each of [channel, ...others]) await say(watching, each, i);
      }
      link.restore();

      await waitFor('both clients to come back', () =>
        living.reconnections.length && parking.reconnections.length ? true : undefined,
      );
      // Told: both were recovered, though nothing was kept when the instance died.
      expect(living.reconnections).toEqual([true]);
      expect(parking.reconnections).toEqual([true]);
      // Each got every message it missed, in each of its channels, once, in order, and is still a member.
      const heard = [
        ...[channel, ...others].map((each) => [living, each] as const),
        [parking, channel] as const,
      ];
      for (const [client, each] of heard) {
        await waitFor(`${client.login} to catch up in ${each}`, () =>
          client.of(each).some((e) => e.data === 10) ? true : undefined,
        );
        expect(
          client
            .of(each)
            .filter((e) => e.event === 'channel:message')
            .map((e) => e.data),
        ).toEqual(['before', ...Array.from({ length: 10 }, (_, i) => i + 1)]);
        expectOnceInOrder(client.of(each));
      }
      const listed = [live.login, parked.login, witness.login].sort();
      expect(await stack.members(witness, channel)).toEqual(listed);
      // Once the killed instance's connections are reaped, both are still there.
      await waitFor(
        'the killed instance’s lease to lapse',
        async () =>
          (await stack.redis.client().zscore('realtime:{instances}', victimUrl as string)) === null
            ? true
            : undefined,
        10_000,
      );
      for (const client of [living, parking]) {
        await say(client, channel, `still here: ${client.login}`);
        await waitFor(`the witness to hear ${client.login}`, () =>
          watching.of(channel).find((e) => e.data === `still here: ${client.login}`),
        );
      }
      expect(await stack.members(witness, channel)).toEqual(listed);
      // Nobody saw either of them leave.
      expect(watching.of(channel).filter((e) => e.event === 'presence:left')).toEqual([]);
    }
  });

  it('recovers every client across a rolling restart of every instance, thousands of messages from several senders exactly once and in order', async () => {
    const channel = 'rolling';
    const senders = await Promise.all(
      Array.from({ length: SENDERS }, () => stack.account('talker')),
    );
    for (const who of senders) await stack.allowMessages(who, 100_000);
    const listeners = await Promise.all([stack.account('reader'), stack.account('reader')]);
    const reading: { client: RealtimeClient; since: string }[] = [];
    for (const who of listeners) {
      const client = await connect(who);
      reading.push({ client, since: (await join(client, channel)).offset as string });
    }
    const talking: RealtimeClient[] = [];
    for (const who of senders) {
      const client = await connect(who);
      await join(client, channel);
      talking.push(client);
    }

    let restarting = true;
    const failures: unknown[] = [];
    const talk = async (client: RealtimeClient) => {
      const acked: number[] = [];
      for (let n = 1; n <= PER_SENDER * 4 && (restarting || n <= PER_SENDER); n++) {
        // A message whose acknowledgement was lost is sent again: it may then be kept twice.
        for (let tries = 0; ; tries++) {
          const ack = await client
            .emit('channel:message', { channel, data: { from: client.login, n } })
            .catch((error: unknown) => ({ ok: false, code: String(error) }));
          if (ack.ok) break;
          if (tries >= 5) {
            failures.push(ack);
            return acked;
          }
          // Reconnecting by itself meanwhile (failed attempts included).
          const back = await waitFor(
            `${client.login} to reconnect`,
            () => (client.socket.connected ? true : undefined),
            30_000,
          ).catch((error: unknown) => failures.push(String(error)));
          if (back !== true) return acked;
        }
        acked.push(n);
      }
      return acked;
    };
    const talked = Promise.all(talking.map(talk));
    try {
      for (let index = 0; index < stack.realtime.length; index++) {
        // Every client drops when its instance stops; each one must come back recovered.
        await stack.restartRealtime(index, 'SIGTERM');
      }
    } finally {
      restarting = false;
    }
    const sent = await talked;
    expect(failures).toEqual([]);

    // Every client was moved at least once, and every time it was recovered.
    const everyone = [...reading.map((r) => r.client), ...talking];
    for (const client of everyone) {
      await waitFor(`${client.login} to be connected`, () =>
        client.socket.connected ? true : undefined,
      );
      expect(client.reconnections.length).toBeGreaterThan(0);
      expect(client.reconnections.every(Boolean)).toBe(true);
    }
    // The channel's history is the reference: every acknowledged message is in it, a sender's in order.
    const kept = await talking[0].history(channel);
    expect(kept.length).toBeGreaterThanOrEqual(SENDERS * PER_SENDER);
    for (const [i, client] of talking.entries()) {
      const numbers = kept
        .filter((m) => m.from.login === client.login)
        .map((m) => (m.data as { n: number }).n)
        .filter((n, at, all) => at === 0 || all[at - 1] !== n);
      expect(numbers).toEqual(sent[i]);
    }
    // Each listener received exactly the kept messages after its join: no gap, no duplicate, in order.
    const last = kept[kept.length - 1].offset;
    for (const { client, since } of reading) {
      await waitFor(`${client.login} to receive the last message`, () =>
        client.of(channel).some((e) => e.offset === last) ? true : undefined,
      );
      expect(received(client, channel, since)).toEqual(
        kept.filter((m) => m.offset > since).map((m) => [m.offset, m.data]),
      );
      expectOnceInOrder(client.of(channel));
    }
    expect(await stack.members(listeners[0], channel)).toEqual(
      [...senders, ...listeners].map((a) => a.login).sort(),
    );
  });
});
