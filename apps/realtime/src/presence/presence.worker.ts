import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Counter } from 'prom-client';
import { MetricsService } from '@lattice/observability';
import {
  PresenceLeases,
  PresenceReaper,
  PresenceStore,
  PresenceUnavailableError,
  type PresenceTimings,
} from '@lattice/presence';
import { newWorkerId } from './worker-id';

/** What the worker tells whoever records connections under its lease. */
export interface PresenceLeaseEvents {
  /** The lease is fresh under this id (renewed or newly taken): work writes must not wait for may run. */
  renewed: [workerId: string];
  /** The lease under `previous` lapsed and the worker is `current` now: what `previous` held must be recorded again. */
  lapsed: [previous: string, current: string];
}

/**
 * This process as a presence worker: it holds a lease in Redis, renewed every
 * PRESENCE_HEARTBEAT_MS, under which its connections are recorded (by the
 * MembershipLedger, which listens to its events); and, like every worker, it
 * runs a PresenceReaper, which removes the connections of workers whose lease
 * lapsed (SIGKILL, a lost machine).
 *
 * A worker writes only while it knows its lease is fresh. When it finds its
 * lease lapsed (a long pause, a Redis outage or restart), it may already have
 * been reaped, so it never renews it: it takes a new id, under which its live
 * connections are recorded again.
 */
@Injectable()
export class PresenceWorker
  extends EventEmitter<PresenceLeaseEvents>
  implements OnApplicationBootstrap
{
  readonly timings: PresenceTimings;
  private workerId = newWorkerId();
  private registered = false;
  /** performance.now() when the last successful renewal was sent. */
  private renewedAt = -Infinity;
  private stopped = false;
  private beating?: Promise<void>;
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly leasesLost: Counter;

  constructor(
    private readonly leases: PresenceLeases,
    private readonly reaper: PresenceReaper,
    store: PresenceStore,
    metrics: MetricsService,
  ) {
    super();
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

  /** Stops renewing and reaping; what is in flight finishes first. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    await Promise.allSettled([this.beating, this.reaper.stop()]);
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
    this.emit('renewed', this.workerId);
  }

  private async rotate(): Promise<void> {
    const previous = this.workerId;
    const wasRegistered = this.registered;
    this.workerId = newWorkerId();
    this.registered = false;
    if (wasRegistered) {
      this.leasesLost.inc();
      this.emit('lapsed', previous, this.workerId);
    }
    const sentAt = performance.now();
    try {
      if (!(await this.leases.renew(this.workerId, true))) return;
    } catch {
      return;
    }
    this.registered = true;
    this.renewedAt = sentAt;
    this.emit('renewed', this.workerId);
  }
}
