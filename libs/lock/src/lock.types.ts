/** How `acquire` waits for a busy resource: bounded attempts, each after a jittered pause. */
export interface AcquireOptions {
  /** Attempts after the first one; 0 tries once. Default 50. */
  retryCount?: number;
  /** Base pause between attempts, in ms. Default 50. */
  retryDelayMs?: number;
  /** A random 0..retryJitterMs is added to each pause, so waiters spread out. Default 50. */
  retryJitterMs?: number;
  /** Stops waiting: the acquisition fails with LOCK_NOT_ACQUIRED, reason `aborted`. */
  signal?: AbortSignal;
  /**
   * Replica acknowledgement: after the grant (and after every extension) Redis
   * is asked `WAIT 1 <replicaAckTimeoutMs>`, and the lock counts only once at
   * least one replica has the lease, so a Sentinel failover to that replica
   * keeps it. Without an acknowledgement in time the lease is given back and
   * the attempt fails like an unreachable Redis (reason `unacknowledged`).
   * Standalone or Sentinel Redis only (not Cluster, not LOCK_QUORUM_URLS).
   * See docs/locks.md for what this does not guarantee.
   */
  replicaAckTimeoutMs?: number;
}

/** What `release()` found: `false` means the lease had already expired (or was taken over). */
export interface ReleaseResult {
  released: boolean;
}

/**
 * Work done under a lock: `signal` aborts (with a LockLostError as its reason)
 * the moment the lock is lost, and `token` is the fencing token to present to
 * the protected resource with every write.
 */
export type LockedWork<T> = (signal: AbortSignal, token: bigint) => Promise<T>;

export interface RunOnceOptions {
  /**
   * The runner's lease, renewed while the task runs: another caller takes over
   * this long after the runner dies. Default 15000.
   */
  leaseTtlMs?: number;
  /** How long a finished run counts: callers within it skip the task. Default 3600000 (1 h). */
  doneTtlMs?: number;
  /** How often a waiting caller checks whether the run finished or its runner died. Default 250. */
  pollMs?: number;
  /**
   * Stops waiting (LOCK_NOT_ACQUIRED, reason `aborted`); a task already
   * running in this process is not interrupted.
   */
  signal?: AbortSignal;
}

export interface LeadOptions {
  /**
   * Run the job every `everyMs` (from the start of one run to the start of the
   * next) for as long as this instance leads. Without it, the job runs once
   * per term and should work until its signal aborts; when it returns, the
   * instance steps down and campaigns again.
   */
  everyMs?: number;
}
