import { APPROXIMATE_BUCKETS } from './rate-limit.constants';
import { NO_BLOCK, SCRIPT_KIND, type ScriptGroup, WindowScriptCodec } from './window-script.codec';

const exact = (key: string, requests: number, over: Partial<ScriptGroup> = {}): ScriptGroup => ({
  key,
  kind: SCRIPT_KIND.exact,
  limit: 100,
  windowMs: 60_000,
  cost: 1,
  block: NO_BLOCK,
  requests: new Array<unknown>(requests),
  extra: 0,
  ...over,
});

describe('WindowScriptCodec', () => {
  const codec = new WindowScriptCodec(50);

  it('sends each distinct policy once and each group as its policy index, requests and lease', () => {
    const { keys, args } = codec.encode([
      exact('a', 3, { extra: 3 }),
      exact('b', 1),
      exact('c', 1, { kind: SCRIPT_KIND.approximate, limit: 10 }),
    ]);
    expect(keys).toEqual(['a', 'b', 'c']);
    expect(args).toEqual([
      APPROXIMATE_BUCKETS,
      50,
      2,
      ...[1, 100, 60_000, 0],
      ...[2, 10, 60_000, 0],
      ...[1, 3, 3],
      ...[1, 1, 0],
      ...[2, 1, 0],
    ]);
  });

  it('sends a costly request as minus its cost, and block keys after the counters in group order', () => {
    const { keys, args } = codec.encode([
      exact('x', 1, { block: { key: 'x:block', ms: 900_000 } }),
      exact('y', 1, { cost: 7 }),
      exact('z', 1, { block: { key: 'z:block', ms: 900_000 } }),
    ]);
    expect(keys).toEqual(['x', 'y', 'z', 'x:block', 'z:block']);
    expect(args).toEqual([
      APPROXIMATE_BUCKETS,
      50,
      2,
      ...[1, 100, 60_000, 900_000],
      ...[1, 100, 60_000, 0],
      ...[1, 1, 0],
      ...[2, -7, 0],
      ...[1, 1, 0],
    ]);
  });

  it('sends a giveback as policy index 0 with its stamp and count, and no policy of its own', () => {
    const { keys, args } = codec.encode([
      exact('a', 0, { giveback: { stamp: 1_700_000_000_050, count: 4 } }),
    ]);
    expect(keys).toEqual(['a']);
    expect(args).toEqual([APPROXIMATE_BUCKETS, 50, 0, 0, 1_700_000_000_050, 4]);
  });

  it("reads each group's five values and Redis's clock, last", () => {
    const reply = [2, 90, 1000, 0, 8, 0, 0, 500, 500, 0, 1_700_000_000_000];
    expect(codec.decode(reply, 0)).toEqual({
      admitted: 2,
      remaining: 90,
      resetMs: 1000,
      retryMs: 0,
      leased: 8,
    });
    expect(codec.decode(reply, 1)).toEqual({
      admitted: 0,
      remaining: 0,
      resetMs: 500,
      retryMs: 500,
      leased: 0,
    });
    expect(codec.clock(reply)).toBe(1_700_000_000_000);
    expect(codec.leaseStamp(reply)).toBe(1_700_000_000_050);
  });

  it('gives the admitted requests, in order, what the later ones and the lease had not taken', () => {
    const group = { admitted: 2, remaining: 5, resetMs: 1000, retryMs: 300, leased: 4 };
    expect([0, 1, 2].map((i) => codec.requestResult(group, i))).toEqual([
      { allowed: true, remaining: 10, resetMs: 1000 },
      { allowed: true, remaining: 9, resetMs: 1000 },
      { allowed: false, remaining: 0, resetMs: 300 },
    ]);
    // A limit lowered below what was used: never a negative remaining.
    const over = { admitted: 1, remaining: -3, resetMs: 1000, retryMs: 0, leased: 0 };
    expect(codec.requestResult(over, 0)).toEqual({ allowed: true, remaining: 0, resetMs: 1000 });
  });
});
