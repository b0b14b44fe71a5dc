import { presenceTimings } from './presence-timings';

describe('presence timings', () => {
  it('derives every period from the defaults (heartbeat 5 s, TTL 15 s)', () => {
    expect(presenceTimings({ heartbeatMs: 5000, ttlMs: 15000 })).toEqual({
      heartbeatMs: 5000,
      leaseMs: 15000,
      reapEveryMs: 2500,
      graceMs: 15000,
      refreshEveryMs: 15000,
      keyTtlMs: 60000,
      writeWindowMs: 10000,
    });
  });

  it.each([
    [100, 300],
    [250, 1500],
    [5000, 5001],
    [5000, 15000],
    [60_000, 3_600_000],
  ])('keeps its guarantees for heartbeat %i ms and TTL %i ms', (heartbeatMs, ttlMs) => {
    const t = presenceTimings({ heartbeatMs, ttlMs });
    // A dead worker's members go within the TTL plus one heartbeat: reapers look twice a heartbeat.
    expect(t.reapEveryMs).toBeLessThanOrEqual(heartbeatMs);
    // A worker stops writing after its next renewal was due and before its lease can lapse.
    expect(t.writeWindowMs).toBeGreaterThan(heartbeatMs);
    expect(t.writeWindowMs).toBeLessThan(ttlMs);
    // Keys outlive the final sweep of a dead worker, counted from their last refresh.
    expect(t.keyTtlMs - t.refreshEveryMs).toBeGreaterThan(t.leaseMs + t.graceMs + t.reapEveryMs);
  });
});
