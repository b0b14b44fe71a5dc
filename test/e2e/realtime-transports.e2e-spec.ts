import { waitFor } from '@lattice/testing';
import type { Account } from '../fixtures/presence/accounts';
import { RealtimeClient, type ClientOptions } from '../fixtures/realtime/realtime-client';
import { RealtimeStack } from '../fixtures/realtime/realtime-stack';

const TRANSPORTS: [string, ClientOptions][] = [
  ['Socket.IO’s defaults (long-polling, then the upgrade)', {}],
  ['long-polling only', { transports: ['polling'] }],
  ['WebSocket only', { transports: ['websocket'] }],
];
const CLIENTS = 3;
const MESSAGES = 3;

/**
 * CONTRACT 8.3, issue 22 point 1: three realtime instances behind two
 * gateways, with plain round-robin balancers (no stickiness) in front of the
 * gateways and in front of the realtime instances. For every transport,
 * clients that connect through either gateway authenticate, join and talk,
 * and every request of a session reaches the instance that owns it: the
 * balancer in front of the realtime instances only ever sees a session's
 * first request.
 */
describe('Socket.IO through two gateways and three realtime instances, every transport', () => {
  let stack: RealtimeStack;
  const clients: RealtimeClient[] = [];
  const owners = new Set<string | null>();

  beforeAll(async () => {
    stack = await RealtimeStack.start({ realtime: 3, gateways: 2 });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  const sum = (hits: number[]) => hits.reduce((a, b) => a + b, 0);

  it.each(TRANSPORTS)(
    '%s: clients of either gateway join and talk, each session on its instance',
    async (name, options) => {
      const channel = `transport-${TRANSPORTS.findIndex(([n]) => n === name)}`;
      const accounts: Account[] = [];
      for (let i = 0; i < CLIENTS; i++) accounts.push(await stack.account('mover'));
      const handshakes = sum(stack.balancer.hits);
      const gatewayHits = [...(stack.front?.hits ?? [])];

      const disconnects: string[] = [];
      for (const who of accounts) {
        const client = await RealtimeClient.connect(stack.url, who, options);
        clients.push(client);
        client.socket.on('disconnect', (reason) => disconnects.push(`${who.login}: ${reason}`));
        expect(await client.emit('presence:join', { channel })).toMatchObject({ ok: true });
      }
      if (!options?.transports) {
        for (const client of clients) {
          await waitFor(`${client.login} to upgrade`, () =>
            client.socket.io.engine.transport.name === 'websocket' ? true : undefined,
          );
        }
      }
      expect(await stack.members(accounts[0], channel)).toEqual(
        accounts.map((a) => a.login).sort(),
      );

      // Each client says something, in turn; everybody else hears all of it, in order.
      for (let round = 1; round <= MESSAGES; round++) {
        for (const client of clients) {
          expect(
            await client.emit('channel:message', { channel, data: `${client.login} ${round}` }),
          ).toEqual({ ok: true });
        }
      }
      for (const client of clients) {
        const expected = clients
          .filter((other) => other !== client)
          .flatMap((other) => Array.from({ length: MESSAGES }, (_, i) => `${other.login} ${i + 1}`))
          .sort();
        const heard = await waitFor(`${client.login} to hear everyone`, () => {
          const messages = client.of(channel).filter((e) => e.event === 'channel:message');
          return messages.length >= expected.length ? messages : undefined;
        });
        expect(heard.map((m) => m.data).sort()).toEqual(expected);
        // One sender's messages in the order sent.
        for (const other of clients.filter((o) => o !== client)) {
          expect(heard.filter((m) => m.who === other.login).map((m) => m.data)).toEqual(
            Array.from({ length: MESSAGES }, (_, i) => `${other.login} ${i + 1}`),
          );
        }
      }

      // Both gateways served these clients; the realtime balancer saw only their handshakes.
      if (stack.front) {
        stack.front.hits.forEach((hits, i) => expect(hits).toBeGreaterThan(gatewayHits[i]));
      }
      expect(sum(stack.balancer.hits) - handshakes).toBe(CLIENTS);
      for (const client of clients) {
        const owner = await stack.ownerOf(client.engineId);
        expect(stack.instanceAt(owner)).toBeDefined();
        owners.add(owner);
        expect(client.socket.connected).toBe(true);
      }
      expect(disconnects).toEqual([]);
    },
  );

  it('spread the sessions over all three instances', () => {
    expect(owners.size).toBe(3);
  });

  it.each(TRANSPORTS.slice(0, 2))(
    'without the routing (%s straight through the balancer) the session is lost at once',
    async (_name, options) => {
      const who = await stack.account('unrouted');
      // The handshake reaches one instance, the next request of the session another.
      await expect(RealtimeClient.connect(stack.balancer.url, who, options)).rejects.toThrow();
    },
  );
});
