import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Counter } from 'prom-client';
import { MetricsService } from '@lattice/observability';
import {
  PresenceLeases,
  PresenceReaper,
  PresenceStore,
  PresenceUnavailableError,
  type PresenceConnection,
  type PresenceTimings,
} from '@lattice/presence';
import { ConnectionRegistry } from './connection.registry';
import { newWorkerId } from './worker-id';

/** Channels whose keys are refreshed side by side. */
const REFRESH_PARALLEL = 32;

/** What the worker needs from the socket side. */
export interface PresenceWorkerListener {
  /** Re-records under `workerId` every membership recorded under another id. */
  reconcile(workerId: string): Promise<void>;
}

/**
 * This process as a presence worker: it holds a lease in Redis, renewed every
 * PRESENCE_HEARTBEAT_MS, under which its connections are recorded; it keeps
 * the keys it relies on alive; and, like every worker, it runs a
 * PresenceReaper, which removes the connections of workers whose lease
 * lapsed (SIGKILL, a lost machine).
 *
 * A worker writes only while it knows its lease is fresh. When it finds its
 * lease lapsed (a long pause, a Redis outage or restart), it may already have
 * been reaped, so it never renews it: it takes a new id and records its live
 * connections again under it.
 */
@Injectable()
export class PresenceWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger('Presence');
  readonly timings: PresenceTimings;
  private workerId = newWorkerId();
  private registered = false;
  /** performance.now() when the last successful renewal was sent. */
  private renewedAt = -Infinity;
  private lastRefresh = -Infinity;
  private reconcileNeeded = false;
  private stopped = false;
  private beating?: Promise<void>;
  private maintaining?: Promise<void>;
  private heartbeatTimer?: NodeJS.Timeout;
  /** Channels recorded in this worker id's index (the SADD may still be in flight). */
  private readonly indexed = new Map<string, Promise<void>>();
  /** Leaves that failed (Redis unreachable), retried after each renewal. */
  private readonly pendingLeaves = new Map<string, PresenceConnection & { onlyIfHeld: boolean }>();
  private listener?: PresenceWorkerListener;
  private readonly leasesLost: Counter;

  constructor(
    private readonly leases: PresenceLeases,
    private readonly store: PresenceStore,
    private readonly registry: ConnectionRegistry,
    private readonly reaper: PresenceReaper,
    metrics: MetricsService,
  ) {
    this.timings = store.timings;
    this.leasesLost = metrics.counter(
      'lattice_presence_leases_lost_total',
      'Times this worker found its lease lapsed and came back under a new id',
    );
  }

  /** The id this worker records connections under now. */
  get id(): string {
    return this.workerId;
  }

  setListener(listener: PresenceWorkerListener): void {
    this.listener = listener;
  }

  onApplicationBootstrap(): void {
    this.heartbeatLoop();
    this.reaper.start();
  }

  /**
   * The worker id to write under, once the lease is known to be fresh
   * (renewing it first when it might not be); UNAVAILABLE when it cannot be.
   */
  async writableId(): Promise<string> {
    if (this.stopped) throw new PresenceUnavailableError();
    if (!this.leaseFresh()) await this.beat();
    if (!this.leaseFresh()) throw new PresenceUnavailableError();
    return this.workerId;
  }

  /** Asks for every membership recorded under an older id to be recorded again. */
  requestReconcile(): void {
    this.reconcileNeeded = true;
  }

  /** Records `channel` in the worker's index before a connection is recorded there. */
  ensureIndexed(channel: string, workerId: string): Promise<void> {
    if (workerId !== this.workerId) return this.leases.indexChannel(workerId, channel);
    let pending = this.indexed.get(channel);
    if (!pending) {
      const started = this.leases.indexChannel(workerId, channel);
      pending = started;
      this.indexed.set(channel, started);
      started.catch(() => {
        if (this.indexed.get(channel) === started) this.indexed.delete(channel);
      });
    }
    return pending;
  }

  /**
   * Drops `channel` from the index once no connection of this worker is in
   * it. Decided synchronously, and sent on the same connection as any later
   * SADD, so a join that follows always finds its channel indexed.
   */
  releaseChannel(channel: string, workerId: string): void {
    if (workerId !== this.workerId || this.registry.isUsed(channel)) return;
    if (!this.indexed.delete(channel)) return;
    // A channel left in the index only costs a reaper one empty look.
    this.leases.unindexChannel(workerId, channel).catch(() => undefined);
  }

  /** A leave that Redis did not take: tried again after the next renewal. */
  retryLeave(connection: PresenceConnection, onlyIfHeld = false): void {
    this.pendingLeaves.set(`${connection.channel}\n${connection.connectionId}`, {
      ...connection,
      onlyIfHeld,
    });
  }

  /** A connection joining `channel` again must not be removed by an older failed leave. */
  cancelLeave(channel: string, connectionId: string): void {
    this.pendingLeaves.delete(`${channel}\n${connectionId}`);
  }

  /** Stops renewing and reaping; what is in flight finishes first. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    await Promise.allSettled([this.beating, this.maintaining, this.reaper.stop()]);
  }

  /**
   * On a graceful shutdown: removes every connection of this worker from
   * Redis at once (announcing the changes) and gives up the lease, instead
   * of leaving the other workers to wait for it to lapse.
   */
  async release(): Promise<void> {
    if (!this.registered) return;
    await this.leases.sweep(this.workerId);
    await this.leases.forget(this.workerId);
    this.registered = false;
  }

  private leaseFresh(): boolean {
    return this.registered && performance.now() - this.renewedAt < this.timings.writeWindowMs;
  }

  private heartbeatLoop(): void {
    if (this.stopped) return;
    void this.beat().finally(() => {
      if (this.stopped) return;
      this.heartbeatTimer = setTimeout(() => this.heartbeatLoop(), this.timings.heartbeatMs);
      this.heartbeatTimer.unref();
    });
  }

  /** One renewal at a time; callers arriving meanwhile share it. */
  private beat(): Promise<void> {
    this.beating ??= this.renew().finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    let renewed: boolean;
    try {
      renewed = await this.leases.renew(this.workerId, !this.registered);
    } catch {
      // Redis unreachable: writes stop when the write window ends; the lease may lapse.
      return;
    }
    if (!renewed) {
      await this.rotate();
      return;
    }
    this.registered = true;
    this.renewedAt = sentAt;
    this.maintain();
  }

  private async rotate(): Promise<void> {
    const previous = this.workerId;
    const wasRegistered = this.registered;
    this.workerId = newWorkerId();
    this.registered = false;
    this.indexed.clear();
    this.pendingLeaves.clear();
    if (wasRegistered) {
      this.leasesLost.inc();
      this.reconcileNeeded = true;
      this.logger.warn(
        `Lease of presence worker ${previous} lapsed; recording ${this.registry.size} connections again as ${this.workerId}`,
      );
    }
    const sentAt = performance.now();
    try {
      if (!(await this.leases.renew(this.workerId, true))) return;
    } catch {
      return;
    }
    this.registered = true;
    this.renewedAt = sentAt;
    this.maintain();
  }

  /** Work after a renewal that writes must not wait for. */
  private maintain(): void {
    if (this.maintaining || this.stopped) return;
    this.maintaining = this.runMaintenance()
      .catch((error: unknown) => {
        if (!(error instanceof PresenceUnavailableError)) {
          this.logger.error({ err: error }, 'Presence maintenance failed');
        }
      })
      .finally(() => (this.maintaining = undefined));
  }

  private async runMaintenance(): Promise<void> {
    const workerId = this.workerId;
    for (const [key, connection] of this.pendingLeaves) {
      this.pendingLeaves.delete(key);
      // Leaves under an older id are the reapers' work now.
      if (connection.workerId !== workerId) continue;
      try {
        await this.store.leave(connection, { onlyIfHeld: connection.onlyIfHeld });
        this.releaseChannel(connection.channel, workerId);
      } catch {
        this.pendingLeaves.set(key, connection);
        return;
      }
    }
    if (this.reconcileNeeded && this.listener) {
      this.reconcileNeeded = false;
      try {
        await this.listener.reconcile(workerId);
      } catch (error) {
        this.reconcileNeeded = true;
        throw error;
      }
    }
    if (performance.now() - this.lastRefresh >= this.timings.refreshEveryMs) {
      await this.refresh(workerId);
    }
  }

  /** Pushes the TTLs of every key this worker relies on forward. */
  private async refresh(workerId: string): Promise<void> {
    const started = performance.now();
    await this.leases.touchIndex(workerId);
    const channels = this.registry.channels();
    for (let i = 0; i < channels.length; i += REFRESH_PARALLEL) {
      await Promise.all(
        channels
          .slice(i, i + REFRESH_PARALLEL)
          .map((channel) => this.store.touch(channel, workerId)),
      );
    }
    this.lastRefresh = started;
  }
}
