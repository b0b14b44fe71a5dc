// npm run bench:lock — @lattice/lock against redlock (5.0.0-beta.2) and
// redis-semaphore (5.8.0, Mutex), side by side on one private redis-server,
// in one run, with plain SET NX + DEL as the floor of the uncontended scenarios:
//   sequential  uncontended, 1 loop: acquire + release on one resource, one after the other
//   parallel    uncontended, 32 loops in flight at once, each on its own resource
//   parallel128 the same with 128 loops
//   contended   16 loops in one process on ONE resource, each holding it ~1 ms
//   processes   4 processes × 4 loops on ONE resource, each holding it ~1 ms
// Waiting for a busy resource: the peers poll with the same pause (10 ms on
// average); @lattice/lock queues and is woken, with a 100 ms safety-net pause. Every scenario runs in slices that rotate the order of the
// libraries, so a busy neighbour on a shared machine weighs on all of them
// alike. Prints a Markdown table per scenario (quoted in docs/locks.md) and a
// JSON line. BENCH_SECONDS (per library and scenario, default 6),
// BENCH_SLICES (default 12) and BENCH_SCENARIOS (a comma list of keys) tune it.
//
// @lattice/lock runs as the apps use it: LockService over RedisService (2 s
// command timeout, no offline queue). The peers get plain ioredis connections
// from createPlainConnection, so this file does not import ioredis.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Mutex } from 'redis-semaphore';
import { LockModule, LockService } from '@lattice/lock';
import { createPlainConnection, RedisService } from '@lattice/redis';
import { RedisServer, startPlatform, type PlatformInstance } from '@lattice/testing';
import type RedlockClass from '../../node_modules/redlock/dist/index';

// redlock's package.json maps `require` to a folder without its type declarations,
// so they are named by path, for the types only.
const Redlock = (createRequire(__filename)('redlock') as { default: typeof RedlockClass }).default;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const SLICES = Number(process.env.BENCH_SLICES ?? 12);
/** Starting processes is slow: the processes scenario takes fewer, longer slices. */
const PROCESS_SLICES = 3;
const TTL_MS = 10_000;

interface Library {
  /** A baseline that cannot wait for a busy resource: measured uncontended only. */
  uncontendedOnly?: boolean;
  ready(): Promise<unknown>;
  /** Resolves, once the lock is held, to the function that releases it. */
  lock(resource: string, contended: boolean): Promise<() => Promise<unknown>>;
  close(): Promise<unknown>;
}

const LIBRARIES: Record<string, (url: string) => Library> = {
  '@lattice/lock': (url) => {
    const starting = startPlatform({ env: { REDIS_URL: url }, imports: [LockModule] });
    let locks: LockService;
    // Waiters are woken when their turn comes; the pause is only the safety net for a lost message.
    const waiting = { retryCount: 1_000_000, retryDelayMs: 100, retryJitterMs: 0 };
    return {
      ready: async () => {
        const platform: PlatformInstance = await starting;
        locks = platform.get(LockService);
        return platform.get(RedisService).whenReady(5000);
      },
      lock: async (resource, contended) => {
        const lock = await locks.acquire(resource, TTL_MS, contended ? waiting : { retryCount: 0 });
        return () => lock.release();
      },
      close: async () => (await starting).close(),
    };
  },

  'redlock 5.0.0-beta.2': (url) => {
    const client = createPlainConnection(url);
    const redlock = new Redlock([client], { retryCount: 0 });
    const waiting = { retryCount: -1, retryDelay: 10, retryJitter: 5 };
    return {
      ready: () => client.ping(),
      lock: async (resource, contended) => {
        const lock = await redlock.acquire([resource], TTL_MS, contended ? waiting : {});
        return () => lock.release();
      },
      close: () => client.quit(),
    };
  },

  'redis-semaphore 5.8.0 (Mutex)': (url) => {
    const client = createPlainConnection(url);
    return {
      ready: () => client.ping(),
      lock: async (resource, contended) => {
        const mutex = new Mutex(client, resource, {
          lockTimeout: TTL_MS,
          acquireTimeout: 60_000,
          acquireAttemptsLimit: contended ? Number.POSITIVE_INFINITY : 1,
          retryInterval: 10,
          // No background refresh: none of the three extends in this benchmark.
          refreshInterval: 0,
        });
        await mutex.acquire();
        return () => mutex.release();
      },
      close: () => client.quit(),
    };
  },

  // The floor for any lock on one Redis: a pair is two round trips, here the
  // cheapest two there are (no script, no ownership check on release, no token).
  'floor: SET NX PX + DEL': (url) => {
    const client = createPlainConnection(url);
    return {
      uncontendedOnly: true,
      ready: () => client.ping(),
      lock: async (resource) => {
        if ((await client.set(resource, '1', 'PX', TTL_MS, 'NX')) !== 'OK') {
          throw new Error(`${resource} is taken`);
        }
        return () => client.del(resource);
      },
      close: () => client.quit(),
    };
  },
};

interface Scenario {
  key: string;
  title: string;
  loops: number;
  resourceOf(loop: number): string;
  contended?: boolean;
  holdMs?: number;
  processes?: number;
}

const ALL_SCENARIOS: Scenario[] = [
  {
    key: 'sequential',
    title: 'uncontended, 1 loop: acquire+release pairs/s',
    loops: 1,
    resourceOf: () => 'bench:seq',
  },
  {
    key: 'parallel',
    title: 'uncontended, 32 loops on 32 resources: acquire+release pairs/s',
    loops: 32,
    resourceOf: (loop) => `bench:par:${loop}`,
  },
  {
    key: 'parallel128',
    title: 'uncontended, 128 loops on 128 resources: acquire+release pairs/s',
    loops: 128,
    resourceOf: (loop) => `bench:par128:${loop}`,
  },
  {
    key: 'contended',
    title: 'contended, 16 loops in one process on 1 resource, 1 ms hold: acquisitions/s',
    loops: 16,
    resourceOf: () => 'bench:hot',
    contended: true,
    holdMs: 1,
  },
  {
    key: 'processes',
    title: 'contended, 4 processes × 4 loops on 1 resource, 1 ms hold: acquisitions/s',
    processes: 4,
    loops: 4,
    resourceOf: () => 'bench:hot-across',
    contended: true,
    holdMs: 1,
  },
];

/** BENCH_SCENARIOS=parallel,contended runs only those. */
const only = process.env.BENCH_SCENARIOS?.split(',');
const SCENARIOS = ALL_SCENARIOS.filter((s) => !only || only.includes(s.key));

interface Totals {
  pairs: number;
  seconds: number;
  waits: number[];
}

const emptyTotals = (): Totals => ({ pairs: 0, seconds: 0, waits: [] });

/** Runs the scenario's loops of lock → (hold) → unlock for `seconds`, adding to `totals`. */
async function measure(library: Library, scenario: Scenario, seconds: number, totals?: Totals) {
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: scenario.loops }, async (_, loop) => {
      const resource = scenario.resourceOf(loop);
      while (performance.now() < end) {
        const asked = performance.now();
        const unlock = await library.lock(resource, scenario.contended ?? false);
        totals?.waits.push(performance.now() - asked);
        if (scenario.holdMs) await sleep(scenario.holdMs);
        await unlock();
        if (totals) totals.pairs++;
      }
    }),
  );
  if (totals) totals.seconds += (performance.now() - started) / 1000;
}

/** The scenario in several processes of one library at once; each reports its totals over IPC. */
async function measureProcesses(
  name: string,
  url: string,
  scenario: Scenario,
  seconds: number,
  totals: Totals,
) {
  // fork() passes on this process's `-r bench/register.cjs`, so the children run TypeScript too.
  const children = Array.from({ length: scenario.processes ?? 1 }, () =>
    fork(__filename, ['worker', name, url, String(seconds)], { stdio: 'inherit' }),
  );
  const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  const reports = await Promise.all(
    children.map((child) => new Promise<Totals>((resolve) => child.once('message', resolve))),
  );
  await Promise.all(exits);
  // Acquisitions of all the processes over the time they ran together.
  totals.pairs += reports.reduce((sum, r) => sum + r.pairs, 0);
  totals.seconds += Math.max(...reports.map((r) => r.seconds));
  for (const report of reports) totals.waits.push(...report.waits);
}

async function worker(name: string, url: string, seconds: number): Promise<void> {
  const scenario = SCENARIOS.find((s) => s.processes)!;
  const library = LIBRARIES[name](url);
  await library.ready();
  await measure(library, scenario, 0.3);
  const totals = emptyTotals();
  await measure(library, scenario, seconds, totals);
  await library.close();
  process.send!(totals, () => process.exit(0));
}

function summarise({ pairs, seconds, waits }: Totals) {
  waits.sort((a, b) => a - b);
  const at = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0;
  return { perSecond: pairs / seconds, p50: at(0.5), p99: at(0.99), max: waits.at(-1) ?? 0 };
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const names = Object.keys(LIBRARIES);
  const libraries = names.map((name) => LIBRARIES[name](server.url));
  const results: Record<string, Record<string, ReturnType<typeof summarise>>> = {};
  try {
    await Promise.all(libraries.map((library) => library.ready()));
    for (const scenario of SCENARIOS) {
      const measured = names.flatMap((_, i) =>
        scenario.contended && libraries[i].uncontendedOnly ? [] : [i],
      );
      const totals = names.map(emptyTotals);
      const slices = scenario.processes ? PROCESS_SLICES : SLICES;
      if (!scenario.processes) {
        for (const i of measured) await measure(libraries[i], scenario, 0.3);
      }
      for (let slice = 0; slice < slices; slice++) {
        for (let n = 0; n < measured.length; n++) {
          const i = measured[(n + slice) % measured.length];
          if (scenario.processes) {
            await measureProcesses(names[i], server.url, scenario, SECONDS / slices, totals[i]);
          } else {
            await measure(libraries[i], scenario, SECONDS / slices, totals[i]);
          }
        }
      }
      results[scenario.key] = Object.fromEntries(
        measured.map((i) => [names[i], summarise(totals[i])]),
      );
      process.stderr.write(`${scenario.key} done\n`);
    }
  } finally {
    await Promise.all(libraries.map((library) => library.close()));
    await server.dispose();
  }

  const [ours, redlock] = names;
  const fixed = (n: number, digits = 0) => n.toFixed(digits);
  console.log(`\nLock benchmark: ${SECONDS} s per library and scenario, Node ${process.version}\n`);
  for (const scenario of SCENARIOS) {
    console.log(`### ${scenario.title}\n`);
    const rows = results[scenario.key];
    console.log('| library | per second | vs redlock | wait p50 ms | wait p99 ms | wait max ms |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [name, r] of Object.entries(rows)) {
      const ratio = fixed(r.perSecond / rows[redlock].perSecond, 2);
      const waits = [r.p50, r.p99, r.max].map((w) => fixed(w, 2)).join(' | ');
      console.log(`| ${name} | ${fixed(r.perSecond)} | ${ratio}× | ${waits} |`);
    }
    console.log('');
  }
  const ratio = (key: string) => results[key][ours].perSecond / results[key][redlock].perSecond;
  const ratios = Object.fromEntries(SCENARIOS.map((s) => [s.key, ratio(s.key)]));
  console.log(JSON.stringify({ seconds: SECONDS, slices: SLICES, results, oursVsRedlock: ratios }));
}

const run =
  process.argv[2] === 'worker'
    ? worker(process.argv[3], process.argv[4], Number(process.argv[5]))
    : main();
run.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
