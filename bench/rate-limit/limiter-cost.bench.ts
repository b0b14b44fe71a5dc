// npm run bench:limiter-cost — what RateLimitService alone costs per request, in
// this process and in Redis, with no HTTP around it: each event-loop turn makes
// BENCH_PER_TURN requests of two checks (a user limit and a route limit on one
// key, as the gateway's ROUTES do), with up to 4 turns' calls in flight. CPU
// time is read for this process (process.cpuUsage) and for its private
// redis-server (/proc). BENCH_WINDOW sets the limits' window in seconds: with
// 1, admissions leave the window as fast as they come (a busy counter's steady
// state); with 60, nothing expires during the run. BENCH_LEASE_MS sets
// RATE_LIMIT_LEASE_MS (default 0: every request decided in Redis).
import { RateLimitModule, RateLimitService } from '@lattice/rate-limit';
import { RedisService } from '@lattice/redis';
import { cpuTimeUs, RedisServer, startPlatform } from '@lattice/testing';

const PER_TURN = Number(process.env.BENCH_PER_TURN ?? 8);
const TURNS = Number(process.env.BENCH_TURNS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW_S = Number(process.env.BENCH_WINDOW ?? 1);
const IN_FLIGHT = 4;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const platform = await startPlatform({
    env: { REDIS_URL: server.url, RATE_LIMIT_LEASE_MS: process.env.BENCH_LEASE_MS ?? '0' },
    imports: [RateLimitModule.forRoot({ redisTimeoutMs: 2000 })],
  });
  try {
    await platform.get(RedisService).whenReady(5000);
    const limiter = platform.get(RateLimitService);
    const limit = 100_000_000;
    const user = { name: 'user', key: 'user:7', limit, windowSeconds: WINDOW_S };
    const route = { name: 'route.orders', key: 'user:7', limit, windowSeconds: WINDOW_S };

    const run = async (turns: number): Promise<void> => {
      const inFlight: Promise<unknown>[] = [];
      for (let turn = 0; turn < turns; turn++) {
        const requests = Array.from({ length: PER_TURN }, () =>
          Promise.all([limiter.consume(user), limiter.consume(route)]),
        );
        inFlight.push(Promise.all(requests));
        if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
        await nextTurn();
      }
      await Promise.all(inFlight);
    };

    await run(TURNS / 8); // warm-up, and a full window where it is short
    console.log(
      `${PER_TURN} requests of 2 checks per turn, ${WINDOW_S} s window, ` +
        `lease ${process.env.BENCH_LEASE_MS ?? '0'} ms`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      const before = process.cpuUsage();
      const redisBefore = cpuTimeUs(server.pid!);
      const started = performance.now();
      await run(TURNS);
      const used = process.cpuUsage(before);
      const requests = TURNS * PER_TURN;
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `round ${round}: app ${((used.user + used.system) / requests).toFixed(2)} µs/req, ` +
          `Redis ${((cpuTimeUs(server.pid!) - redisBefore) / requests).toFixed(2)} µs/req, ` +
          `${(requests / seconds).toFixed(0)} req/s`,
      );
    }
  } finally {
    await platform.close();
    await server.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
