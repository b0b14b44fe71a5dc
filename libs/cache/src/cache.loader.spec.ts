import { LockNotAcquiredError, type LockService } from '@lattice/lock';
import { MetricsService } from '@lattice/observability';
import { CacheLoadTimeoutError } from './cache.errors';
import { CacheLoads } from './cache.loader';
import type { LoadContext, LoadPlan, WriteSettings } from './cache-load.types';
import { CacheMetrics } from './cache.metrics';
import {
  encodeValue,
  parseRecord,
  recordOf,
  serializeRecord,
  type CacheRecord,
} from './cache-record';
import { FillTracker } from './fill.tracker';
import type { InvalidationBus } from './invalidation.bus';
import { MemoryTier } from './memory.tier';
import type { RedisTier } from './redis.tier';

/** L2 as a map of raw records, with the fill script's version check. */
class FakeRedisTier {
  readonly entries = new Map<string, string>();
  fills = 0;

  read(key: string): Promise<string | null> {
    return Promise.resolve(this.entries.get(key) ?? null);
  }

  tag(): Promise<void> {
    return Promise.resolve();
  }

  fill(key: string, raw: string, _px: number, expected: string) {
    this.fills++;
    const current = this.entries.get(key);
    const version = current === undefined ? '' : (/:([\w-]+)\|/.exec(current)?.[1] ?? '');
    if (version !== expected) return Promise.resolve({ written: false, current: current ?? null });
    this.entries.set(key, raw);
    return Promise.resolve({ written: true });
  }
}

/** A loader whose calls stay pending until the test resolves them. */
function controlledLoader() {
  const calls: { resolve: (value: string) => void; signal: AbortSignal }[] = [];
  const loader = (signal: AbortSignal) =>
    new Promise<string>((resolve) => calls.push({ resolve, signal }));
  return { loader, calls };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CacheLoads', () => {
  let l2: FakeRedisTier;
  let lockHeld: boolean;
  let versions: number;
  let loads: CacheLoads;
  const write: WriteSettings = { ttlMs: 60_000, graceMs: 60_000, tags: [] };

  function record(value: string, freshForMs: number, graceMs = 60_000): CacheRecord {
    const { kind, payload } = encodeValue(value);
    const freshUntil = Date.now() + freshForMs;
    return recordOf(kind, payload, freshUntil, freshUntil + graceMs, `v${++versions}`, 'k');
  }

  function store(key: string, value: string, freshForMs: number): CacheRecord {
    const r = record(value, freshForMs);
    l2.entries.set(
      key,
      serializeRecord(r.kind, r.freshUntil, r.staleUntil, r.version, `"${value}"`),
    );
    return r;
  }

  beforeEach(() => {
    l2 = new FakeRedisTier();
    lockHeld = false;
    versions = 0;
    const tracker = new FillTracker();
    tracker.trust();
    const locks = {
      using: (_name: string, _ttl: number, work: (signal: AbortSignal) => Promise<unknown>) =>
        lockHeld
          ? Promise.reject(new LockNotAcquiredError(['x'], 'held', 1))
          : work(new AbortController().signal),
    } as unknown as LockService;
    const context: LoadContext = {
      l2: l2 as unknown as RedisTier,
      memory: new MemoryTier({ maxEntries: 100, maxBytes: 1e6, maxEntryBytes: 1e5 }),
      tracker,
      bus: { message: (change: unknown) => JSON.stringify(change) } as unknown as InvalidationBus,
      metrics: new CacheMetrics(new MetricsService(), {
        entries: () => 0,
        bytes: () => 0,
        trusted: () => true,
      }),
      locks,
      lockTtlMs: 1000,
      shutdown: new AbortController().signal,
      prepare: (key, value, settings) => {
        const { kind, payload } = encodeValue(value);
        const freshUntil = Date.now() + settings.ttlMs;
        const staleUntil = freshUntil + settings.graceMs;
        const version = `v${++versions}`;
        return {
          raw: serializeRecord(kind, freshUntil, staleUntil, version, payload),
          record: recordOf(kind, payload, freshUntil, staleUntil, version, key),
          pxMs: settings.ttlMs + settings.graceMs,
        };
      },
      parse: (raw, key) => parseRecord(raw, key),
    };
    loads = new CacheLoads(context);
  });

  it('calls the loader once for concurrent misses of one key', async () => {
    const { loader, calls } = controlledLoader();
    const plan: LoadPlan = { write, lockWaitMs: null };
    const answers = [1, 2, 3].map(() => loads.getOrLoad('k', loader, plan, undefined));
    await flush();
    expect(calls).toHaveLength(1);
    calls[0].resolve('loaded');
    for (const answer of await Promise.all(answers)) expect(answer.record.value).toBe('loaded');
    expect(l2.fills).toBe(1);
  });

  it('answers the value in grace at the soft timeout and stores the load when it ends', async () => {
    const { loader, calls } = controlledLoader();
    store('k', 'old', -1);
    const plan: LoadPlan = { write, lockWaitMs: null, softTimeoutMs: 5 };
    const answer = await loads.getOrLoad('k', loader, plan, undefined);
    expect(answer).toMatchObject({ stale: true, source: 'l2' });
    expect(answer.record.value).toBe('old');
    expect(answer.error).toBeInstanceOf(CacheLoadTimeoutError);
    // Still loading: a caller now shares the flight, it does not start a second load.
    expect((await loads.getOrLoad('k', loader, plan, undefined)).record.value).toBe('old');
    expect(calls).toHaveLength(1);
    calls[0].resolve('new');
    await flush();
    expect(l2.entries.get('k')).toMatch(/\|"new"$/);
  });

  it('waits for the loader past the soft timeout when nothing is in grace', async () => {
    const { loader, calls } = controlledLoader();
    const plan: LoadPlan = { write, lockWaitMs: null, softTimeoutMs: 1 };
    const answer = loads.getOrLoad('k', loader, plan, undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    calls[0].resolve('loaded');
    expect(await answer).toMatchObject({ stale: false, source: 'loader' });
  });

  it('aborts the loader at the hard timeout and fails without a value in grace', async () => {
    const { loader, calls } = controlledLoader();
    const plan: LoadPlan = { write, lockWaitMs: null, hardTimeoutMs: 5 };
    await expect(loads.getOrLoad('k', loader, plan, undefined)).rejects.toMatchObject({
      code: 'CACHE_LOAD_TIMEOUT',
      kind: 'hard',
    });
    expect(calls[0].signal.aborted).toBe(true);
    calls[0].resolve('late');
    await flush();
    expect(l2.fills).toBe(0);
  });

  it('serves the value in grace at the hard timeout', async () => {
    const { loader } = controlledLoader();
    const plan: LoadPlan = { write, lockWaitMs: null, hardTimeoutMs: 5 };
    const answer = await loads.getOrLoad('k', loader, plan, record('old', -1));
    expect(answer).toMatchObject({ stale: true, source: 'l1' });
  });

  describe('early refresh', () => {
    const plan: LoadPlan = { write, lockWaitMs: null, refreshWithinMs: 10_000 };

    it('reloads a value inside the refresh window once, and stores it over the one it saw', async () => {
      const { loader, calls } = controlledLoader();
      const seen = store('k', 'old', 5000);
      loads.refreshIfDue('k', loader, plan, seen);
      loads.refreshIfDue('k', loader, plan, seen);
      await flush();
      expect(calls).toHaveLength(1);
      calls[0].resolve('new');
      await flush();
      expect(l2.entries.get('k')).toMatch(/\|"new"$/);
    });

    it('leaves a value with more life than the window alone', async () => {
      const { loader, calls } = controlledLoader();
      loads.refreshIfDue('k', loader, plan, store('k', 'old', 20_000));
      await flush();
      expect(calls).toHaveLength(0);
    });

    it('skips when another instance holds the refresh lock, or already refreshed', async () => {
      const { loader, calls } = controlledLoader();
      const seen = store('k', 'old', 5000);
      lockHeld = true;
      loads.refreshIfDue('k', loader, plan, seen);
      await flush();
      lockHeld = false;
      store('k', 'refreshed elsewhere', 60_000);
      loads.refreshIfDue('k', loader, plan, seen);
      await flush();
      expect(calls).toHaveLength(0);
    });
  });
});
