import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Counter } from 'prom-client';
import { MetricsService } from '@lattice/observability';
import { PresenceUnavailableError } from './presence.errors';
import { PresenceLeases } from './presence.leases';
import { PresenceStore } from './presence.store';

/**
 * Every PRESENCE_HEARTBEAT_MS / 2, takes the presence workers whose lease
 * lapsed (SIGKILL, a lost machine) and removes their connections, each
 * worker by one reaper of all the instances; after a grace period it sweeps
 * each once more (writes that were in flight when it died) and forgets it.
 * Any process that records presence runs one; nothing else needs it.
 */
@Injectable()
export class PresenceReaper {
  private readonly logger = new Logger('Presence');
  private workersReaped?: Counter;
  private timer?: NodeJS.Timeout;
  private reaping?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly leases: PresenceLeases,
    private readonly store: PresenceStore,
    private readonly metrics: MetricsService,
  ) {}

  start(): void {
    this.workersReaped ??= this.metrics.counter(
      'lattice_presence_workers_reaped_total',
      'Dead workers whose connections this worker removed',
    );
    this.stopped = false;
    this.loop();
  }

  /** Stops reaping; a sweep under way finishes first. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.reaping;
  }

  /** One look: sweeps the lapsed workers, and those due their final sweep. */
  async reapOnce(): Promise<void> {
    try {
      const { lapsed, due } = await this.leases.claim();
      for (const deadId of lapsed) {
        const started = performance.now();
        const changed = await this.leases.sweep(deadId);
        this.workersReaped?.inc();
        this.logger.warn(
          `Presence worker ${deadId} stopped renewing its lease; removed its connections (${changed} presence changes) in ${Math.round(performance.now() - started)} ms`,
        );
      }
      for (const deadId of due) {
        const changed = await this.leases.sweep(deadId);
        await this.leases.forget(deadId);
        if (changed) {
          this.logger.warn(
            `Final sweep of presence worker ${deadId} removed connections written late (${changed} presence changes)`,
          );
        }
      }
    } catch (error) {
      if (!(error instanceof PresenceUnavailableError)) {
        this.logger.error({ err: error }, 'Presence reaper failed');
      }
    }
  }

  private loop(): void {
    if (this.stopped) return;
    this.reaping = this.reapOnce().finally(() => {
      this.reaping = undefined;
      if (this.stopped) return;
      this.timer = setTimeout(() => this.loop(), this.store.timings.reapEveryMs);
      this.timer.unref();
    });
  }
}
