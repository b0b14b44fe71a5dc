import { createServer, type Server } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { waitFor, type AppProcess, type RoundRobinBalancer } from '@lattice/testing';
import type { Account } from '../fixtures/presence/accounts';
import { RealtimeStack } from '../fixtures/realtime/realtime-stack';

type Ack = { ok: boolean; code?: string };
interface Received {
  channel: string;
  from: { login: string };
  data: unknown;
}

/**
 * CONTRACT 8.3: every Socket.IO transport through the gateway, with two
 * realtime instances behind a plain round-robin balancer (no stickiness):
 * the gateway sends each request of a session to the instance that owns it.
 */
describe('Socket.IO sessions through the gateway, any transport, no sticky balancing', () => {
  let stack: RealtimeStack;
  let one: AppProcess;
  let two: AppProcess;
  let balancer: RoundRobinBalancer;
  let gateway: AppProcess;
  const sockets: Socket[] = [];

  const account = (prefix: string) => stack.account(prefix);

  /** Connects with Socket.IO's defaults but for the options given; resolves once connected. */
  const connect = (url: string, who: Account, options: Parameters<typeof io>[1] = {}) => {
    const socket = io(url, {
      auth: { token: who.token },
      forceNew: true,
      reconnection: false,
      timeout: 10_000,
      ...options,
    });
    sockets.push(socket);
    const messages: Received[] = [];
    socket.on('channel:message', (message: Received) => messages.push(message));
    return new Promise<{ socket: Socket; messages: Received[] }>((resolve, reject) => {
      socket.once('connect', () => resolve({ socket, messages }));
      socket.once('connect_error', reject);
    });
  };
  const emit = (socket: Socket, event: string, payload: unknown) =>
    socket.timeout(10_000).emitWithAck(event, payload) as Promise<Ack>;
  const said = (messages: Received[], data: string) =>
    waitFor(`"${data}"`, () => messages.find((m) => m.data === data));

  beforeAll(async () => {
    stack = await RealtimeStack.start();
    [one, two] = stack.realtime;
    ({ balancer } = stack);
    [gateway] = stack.gateways;
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('fails without the routing: long-polling straight through the balancer loses its session', async () => {
    const ada = await account('ada');
    // The handshake reaches one instance, the next request the other.
    await expect(connect(balancer.url, ada, { transports: ['polling'] })).rejects.toThrow();
  });

  it('keeps a polling client and an upgrading client on their instances, exchanging messages with both instances', async () => {
    const [poller, upgrader, first, second] = await Promise.all([
      account('poller'),
      account('upgrader'),
      account('first'),
      account('second'),
    ]);
    const polling = await connect(gateway.url(''), poller, { transports: ['polling'] });
    const upgrading = await connect(gateway.url(''), upgrader);
    const onOne = await connect(one.url(''), first, { transports: ['websocket'] });
    const onTwo = await connect(two.url(''), second, { transports: ['websocket'] });
    for (const client of [polling, upgrading, onOne, onTwo]) {
      expect(await emit(client.socket, 'presence:join', { channel: 'routed' })).toMatchObject({
        ok: true,
      });
    }
    await waitFor('the default client to upgrade', () =>
      upgrading.socket.io.engine.transport.name === 'websocket' ? true : undefined,
    );

    // Each gateway session is recorded as owned by one of the instances.
    const owners = await Promise.all(
      [polling, upgrading].map((c) =>
        stack.redis.client().get(`realtime:session:${c.socket.io.engine.id}`),
      ),
    );
    for (const owner of owners) expect([one.url(''), two.url('')]).toContain(owner);

    // Several round trips on long-polling, each one routed to the session's instance.
    for (let round = 1; round <= 5; round++) {
      const data = `poll ${round}`;
      expect(await emit(polling.socket, 'channel:message', { channel: 'routed', data })).toEqual({
        ok: true,
      });
      for (const other of [upgrading, onOne, onTwo]) await said(other.messages, data);
      const reply = `reply ${round}`;
      const sender = round % 2 ? onOne : onTwo;
      expect(
        await emit(sender.socket, 'channel:message', { channel: 'routed', data: reply }),
      ).toEqual({ ok: true });
      await said(polling.messages, reply);
      await said(upgrading.messages, reply);
    }
    expect(
      await emit(upgrading.socket, 'channel:message', { channel: 'routed', data: 'upgraded' }),
    ).toEqual({ ok: true });
    for (const other of [polling, onOne, onTwo]) await said(other.messages, 'upgraded');

    expect(polling.socket.io.engine.transport.name).toBe('polling');
    expect(polling.socket.connected && upgrading.socket.connected).toBe(true);
    // Sessions that end are forgotten.
    const sid = polling.socket.io.engine.id;
    polling.socket.close();
    await waitFor('the ended session to be forgotten', async () =>
      (await stack.redis.client().exists(`realtime:session:${sid}`)) === 0 ? true : undefined,
    );
  });

  it('sends an unknown session to REALTIME_URL, which answers Engine.IO’s own 400', async () => {
    const res = await fetch(
      gateway.url('/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA'),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: 'Session ID unknown' });
  });

  it('never routes to an address that is not a live realtime instance, whatever Redis says', async () => {
    let stray = 0;
    const elsewhere: Server = createServer((_req, res) => {
      stray++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const { port } = elsewhere.address() as { port: number };
    try {
      const forged = {
        BBBBBBBBBBBBBBBBBBBB: `http://127.0.0.1:${port}`,
        CCCCCCCCCCCCCCCCCCCC: `http://127.0.0.1:${port}/socket.io`,
        DDDDDDDDDDDDDDDDDDDD: `file:///etc/passwd`,
        EEEEEEEEEEEEEEEEEEEE: `not a url`,
      };
      for (const [sid, address] of Object.entries(forged)) {
        await stack.redis.client().set(`realtime:session:${sid}`, address, 'EX', 60);
        const res = await fetch(gateway.url(`/socket.io/?EIO=4&transport=polling&sid=${sid}`));
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ message: 'Session ID unknown' });
      }
      // A client-chosen address in the request is never used either.
      const res = await fetch(
        gateway.url(`/socket.io/?EIO=4&transport=polling&sid=http://127.0.0.1:${port}`),
      );
      expect(res.status).toBe(400);
      expect(stray).toBe(0);
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });
});
