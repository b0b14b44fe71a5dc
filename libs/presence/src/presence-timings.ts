/** Every period of presence, derived from PRESENCE_HEARTBEAT_MS and PRESENCE_TTL_MS. */
export interface PresenceTimings {
  /** How often a worker renews its lease (PRESENCE_HEARTBEAT_MS). */
  heartbeatMs: number;
  /** How long a lease lasts without renewal (PRESENCE_TTL_MS). */
  leaseMs: number;
  /**
   * How often every worker looks for lapsed leases: half a heartbeat, so a
   * dead worker's members are gone within PRESENCE_TTL_MS plus one heartbeat
   * with half a heartbeat to spare for the sweep itself.
   */
  reapEveryMs: number;
  /** After the first sweep of a dead worker, when the final one runs. */
  graceMs: number;
  /** How often a live worker pushes the TTLs of the keys it relies on forward. */
  refreshEveryMs: number;
  /**
   * TTL of every presence key. It outlives the final sweep of a dead worker
   * (lease + grace + a reaper period after its last refresh), and bounds how
   * long anything survives a crash of every worker at once.
   */
  keyTtlMs: number;
  /**
   * A worker writes only until this long after it sent its last successful
   * renewal: halfway between the next renewal and the lease's end, so a
   * stalled worker never writes under a lease that may have lapsed.
   */
  writeWindowMs: number;
}

const MIN_REFRESH_MS = 5_000;

export function presenceTimings(config: { heartbeatMs: number; ttlMs: number }): PresenceTimings {
  const { heartbeatMs, ttlMs } = config;
  const refreshEveryMs = Math.max(ttlMs, MIN_REFRESH_MS);
  return {
    heartbeatMs,
    leaseMs: ttlMs,
    reapEveryMs: Math.max(25, Math.floor(heartbeatMs / 2)),
    graceMs: ttlMs,
    refreshEveryMs,
    keyTtlMs: 4 * refreshEveryMs,
    writeWindowMs: (ttlMs + heartbeatMs) / 2,
  };
}
