// The peers for bench:realtime: a bare Socket.IO server (no sessions, no
// presence, no limits, no logs) that relays `channel:message` to a room across
// instances through Redis, with BENCH_ADAPTER:
//   redis    @socket.io/redis-adapter (classic pub/sub), no connection state
//            recovery (that adapter does not keep sessions)
//   streams  @socket.io/redis-streams-adapter (one Redis stream, XADD/XREAD),
//            with Socket.IO's connection state recovery on, as that adapter is
//            meant to be used
// A client emits `join` { channel } (acknowledged once in the room), then
// `channel:message` { channel, data }: the others in the room receive
// { channel, from, data, sentAt }, as the realtime app sends it.
import { createServer } from 'node:http';
import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

type Ack = (answer: { ok: boolean }) => void;

function main(): void {
  const redisUrl = process.env.REDIS_URL!;
  const streams = process.env.BENCH_ADAPTER === 'streams';
  const http = createServer();
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    ...(streams
      ? {
          adapter: createStreamsAdapter(new Redis(redisUrl)),
          connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
        }
      : { adapter: createPubSubAdapter(new Redis(redisUrl), new Redis(redisUrl)) }),
  });
  io.on('connection', (socket) => {
    const from = { userId: socket.id, login: 'bench' };
    socket.on('join', ({ channel }: { channel: string }, ack: Ack) => {
      void socket.join(channel);
      ack({ ok: true });
    });
    socket.on(
      'channel:message',
      ({ channel, data }: { channel: string; data: unknown }, ack: Ack) => {
        if (!socket.rooms.has(channel)) return ack({ ok: false });
        socket.to(channel).emit('channel:message', {
          channel,
          from,
          data,
          sentAt: new Date().toISOString(),
        });
        ack({ ok: true });
      },
    );
  });
  http.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
  process.on('SIGTERM', () => void io.close(() => process.exit(0)));
}

main();
