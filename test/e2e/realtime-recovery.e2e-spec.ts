import { io, type Socket } from 'socket.io-client';
import { waitFor, type AppProcess } from '@lattice/testing';
import type { Account } from '../fixtures/presence/accounts';
import { RealtimeStack } from '../fixtures/realtime/realtime-stack';

type Ack = { ok: boolean; code?: string; offset?: string };
interface Seen {
  event: string;
  offset: string;
  who: string;
}

const WINDOW_MS = 5000;
const EVENTS = ['channel:message', 'presence:joined', 'presence:left', 'presence:updated'];

/**
 * CONTRACT 8.3: Socket.IO connection state recovery across instances. Two
 * realtime instances behind the gateway and a plain round-robin balancer; a
 * client's transport drops while others talk, join and leave; it comes back
 * (to either instance) within REALTIME_RECOVERY_MS recovered, in its channel,
 * with every event it missed, in order, once, and nobody saw it leave.
 * After the window it comes back unrecovered and is no longer a member.
 */
describe('Socket.IO connection state recovery across instances', () => {
  let stack: RealtimeStack;
  let one: AppProcess;
  let two: AppProcess;
  let gateway: AppProcess;
  const sockets: Socket[] = [];

  const account = (prefix: string) => stack.account(prefix);

  /** A client through the gateway with Socket.IO's defaults (polling, then the upgrade); it records what it sees. */
  const connect = async (who: Account, channel: string) => {
    const socket = io(gateway.url(''), {
      auth: { token: who.token },
      forceNew: true,
      reconnection: false,
      timeout: 10_000,
    });
    sockets.push(socket);
    const seen: Seen[] = [];
    for (const event of EVENTS) {
      socket.on(
        event,
        (payload: { channel: string; offset: string; member?: { login: string } }) => {
          if (payload.channel !== channel) return;
          seen.push({ event, offset: payload.offset, who: payload.member?.login ?? '' });
        },
      );
    }
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const ack = await emit(socket, 'presence:join', { channel });
    expect(ack).toMatchObject({ ok: true });
    return { socket, seen };
  };
  const emit = (socket: Socket, event: string, payload: unknown) =>
    socket.timeout(10_000).emitWithAck(event, payload) as Promise<Ack>;
  const reconnect = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
      socket.connect();
    });
  const ownerOf = (socket: Socket) => stack.ownerOf(socket.io.engine.id);
  const members = (who: Account, channel: string) => stack.members(who, channel);
  /** Drops the client's transport as a lost network would, without letting it reconnect by itself. */
  const drop = async (socket: Socket) => {
    const gone = new Promise((resolve) => socket.once('disconnect', resolve));
    socket.io.engine.close();
    await gone;
  };

  beforeAll(async () => {
    stack = await RealtimeStack.start({ env: { REALTIME_RECOVERY_MS: String(WINDOW_MS) } });
    [one, two] = stack.realtime;
    [gateway] = stack.gateways;
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('recovers a dropped client on either instance: every missed event once, in order, and it never left', async () => {
    const channel = 'recovering';
    const [dropper, witness, visitor] = await Promise.all([
      account('dropper'),
      account('witness'),
      account('visitor'),
    ]);
    const dropped = await connect(dropper, channel);
    const watching = await connect(witness, channel);
    await waitFor('the dropped client to see the witness join', () =>
      dropped.seen.find((e) => e.who === witness.login),
    );
    const before = await members(witness, channel);
    const owners = new Set([await ownerOf(dropped.socket)]);
    let sent = 0;

    // Until the client has come back on the other instance at least once.
    for (let round = 1; round <= 6 && owners.size < 2; round++) {
      // A sender per round, so no round meets the per-user message limit.
      const sender = await account('sender');
      const sending = { ...(await connect(sender, channel)), login: sender.login };
      await waitFor('the dropped client to see the sender join', () =>
        dropped.seen.find((e) => e.event === 'presence:joined' && e.who === sender.login),
      );
      const upTo = dropped.seen[dropped.seen.length - 1].offset;
      await drop(dropped.socket);

      // Meanwhile: messages, a visitor joins, updates and leaves, more messages.
      for (let i = 0; i < 5; i++) {
        expect(await emit(sending.socket, 'channel:message', { channel, data: ++sent })).toEqual({
          ok: true,
        });
      }
      const visiting = await connect(visitor, channel);
      expect(await emit(visiting.socket, 'presence:update', { channel, meta: { round } })).toEqual({
        ok: true,
      });
      expect(await emit(visiting.socket, 'presence:leave', { channel })).toEqual({ ok: true });
      for (let i = 0; i < 5; i++) {
        expect(await emit(sending.socket, 'channel:message', { channel, data: ++sent })).toEqual({
          ok: true,
        });
      }
      // The dropped client is still a member.
      expect(await members(witness, channel)).toEqual([...before, sending.login].sort());

      // Three new sessions a round (sender, visitor, this one) through the round-robin balancer:
      // if this one lands on its instance again, the next round's lands on the other.
      await reconnect(dropped.socket);
      expect(dropped.socket.recovered).toBe(true);
      owners.add(await ownerOf(dropped.socket));

      // What the witness saw since the drop, the dropped client gets too: in order, once.
      const missed = await waitFor('the witness to see everything', () => {
        const since = watching.seen.filter((e) => e.offset > upTo);
        return since.length >= 10 + 3 ? since : undefined;
      });
      expect(missed.length).toBe(10 + 3);
      await waitFor('the missed events', () =>
        dropped.seen.filter((e) => e.offset > upTo).length >= missed.length ? true : undefined,
      );
      // And live ones keep coming after them.
      expect(await emit(sending.socket, 'channel:message', { channel, data: ++sent })).toEqual({
        ok: true,
      });
      for (const client of [dropped, watching]) {
        await waitFor('a live message', () =>
          client.seen.find((e) => e.event === 'channel:message' && e.offset > missed[12].offset),
        );
      }
      const after = watching.seen.filter((e) => e.offset > upTo);
      expect(dropped.seen.filter((e) => e.offset > upTo)).toEqual(after);
      visiting.socket.close();
      sending.socket.close();
      await waitFor('the sender to leave', () =>
        dropped.seen.find(
          (e) =>
            e.event === 'presence:left' && e.who === sender.login && e.offset > missed[12].offset,
        ),
      );
    }
    expect(owners.size).toBe(2);

    // Still a member: it may talk, and nobody ever saw it leave or join again.
    expect(await emit(dropped.socket, 'channel:message', { channel, data: 'back' })).toEqual({
      ok: true,
    });
    expect(watching.seen.filter((e) => e.who === dropper.login)).toEqual([]);
    expect(await members(witness, channel)).toEqual(before);
    const offsets = dropped.seen.map((e) => e.offset);
    expect(new Set(offsets).size).toBe(offsets.length);
    expect([...offsets].sort()).toEqual(offsets);
  });

  it('after the window the client comes back unrecovered, and it left its channel meanwhile', async () => {
    const channel = 'expiring';
    const [dropper, witness] = await Promise.all([account('late'), account('stayer')]);
    const dropped = await connect(dropper, channel);
    const watching = await connect(witness, channel);
    await drop(dropped.socket);
    expect(await members(witness, channel)).toContain(dropper.login);

    const left = await waitFor(
      'the dropped member to be announced as left',
      () => watching.seen.find((e) => e.event === 'presence:left' && e.who === dropper.login),
      WINDOW_MS * 4,
    );
    expect(left).toBeDefined();
    expect(await members(witness, channel)).toEqual([witness.login]);

    await reconnect(dropped.socket);
    expect(dropped.socket.recovered).toBe(false);
    expect(await members(witness, channel)).toEqual([witness.login]);
    expect(await emit(dropped.socket, 'channel:message', { channel, data: 'x' })).toMatchObject({
      ok: false,
      code: 'NOT_A_MEMBER',
    });
    // Joining again works as for any new connection, with the current member list.
    const again = (await emit(dropped.socket, 'presence:join', { channel })) as Ack & {
      members: { login: string }[];
    };
    expect(again).toMatchObject({ ok: true });
    expect(again.members.map((m) => m.login).sort()).toEqual([dropper.login, witness.login].sort());
  });
  // Last: it stops one of the two instances.
  it('recovers the clients of an instance that stops gracefully on the other one', async () => {
    const channel = 'rolling';
    const [mover, witness] = await Promise.all([account('mover'), account('watcher')]);
    const moving = await connect(mover, channel);
    const owner = await ownerOf(moving.socket);
    const [leaving, staying] = owner === one.url('') ? [one, two] : [two, one];
    // The witness on the instance that stays, directly.
    const watchingSocket = io(staying.url(''), {
      auth: { token: witness.token },
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
    });
    sockets.push(watchingSocket);
    const watched: Seen[] = [];
    for (const event of EVENTS) {
      watchingSocket.on(event, (payload: { offset: string; member?: { login: string } }) =>
        watched.push({ event, offset: payload.offset, who: payload.member?.login ?? '' }),
      );
    }
    await new Promise<void>((resolve) => watchingSocket.once('connect', () => resolve()));
    expect(await emit(watchingSocket, 'presence:join', { channel })).toMatchObject({ ok: true });
    await waitFor('the mover to see the witness', () =>
      moving.seen.find((e) => e.who === witness.login),
    );

    moving.socket.io.reconnection(true);
    moving.socket.io.reconnectionDelay(100);
    moving.socket.io.reconnectionDelayMax(200);
    const back = new Promise<void>((resolve) => {
      moving.socket.once('disconnect', () => moving.socket.once('connect', () => resolve()));
    });
    expect(await leaving.stop('SIGTERM')).toBe(0);
    await back;
    expect(moving.socket.recovered).toBe(true);
    expect(await ownerOf(moving.socket)).toBe(staying.url(''));

    // The stopped instance removed its connections at once; the recovered one was recorded again.
    await waitFor('the mover to be announced back', () =>
      watched.find((e) => e.event === 'presence:joined' && e.who === mover.login),
    );
    expect(watched.filter((e) => e.who === mover.login).map((e) => e.event)).toEqual([
      'presence:left',
      'presence:joined',
    ]);
    expect(await members(witness, channel)).toEqual([mover.login, witness.login].sort());
    // Still in its channel on the other instance, and heard there.
    expect(await emit(moving.socket, 'channel:message', { channel, data: 'moved' })).toEqual({
      ok: true,
    });
    await waitFor('the witness to hear the mover', () =>
      watched.find((e) => e.event === 'channel:message'),
    );
  });
});
