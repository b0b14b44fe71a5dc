import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { HotCounter } from './hot.counter';
import { HotHistogram } from './hot.histogram';

/**
 * The app's Prometheus registry. Metrics are created on first use and shared
 * afterwards, so any lib can ask for the metric it needs by name.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  /** The hot metrics by name, so that every caller of one name gets the same one. */
  private readonly hot = new Map<string, HotCounter<string> | HotHistogram<string>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.getOrCreate(
      name,
      () => new Counter({ name, help, labelNames, registers: [this.registry] }),
    );
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.getOrCreate(
      name,
      () => new Gauge({ name, help, labelNames, registers: [this.registry] }),
    );
  }

  /**
   * A counter for per-request paths: increments go to plain numbers, and the
   * registry gets the totals when scraped (prom-client's own counters hash
   * the labels on every increment).
   */
  hotCounter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
  ): HotCounter<L> {
    return this.getOrCreateHot(name, () => {
      const hot = new HotCounter(labelNames);
      new Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          hot.reportTo(this);
        },
      });
      return hot;
    });
  }

  /** A histogram, observed through children made once per set of label values (hot-metrics.ts). */
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ): HotHistogram<L> {
    return this.getOrCreateHot(name, () => {
      const histogram = new HotHistogram(name, help, labelNames, buckets);
      // Registered as prom-client registers its own metrics: the registry only reads
      // name, help, type and aggregator and calls getForPromString(), get() and reset().
      this.registry.registerMetric(histogram as unknown as Metric);
      return histogram;
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private getOrCreateHot<T extends HotCounter<string> | HotHistogram<string>>(
    name: string,
    create: () => T,
  ): T {
    let metric = this.hot.get(name) as T | undefined;
    if (!metric) {
      metric = create();
      this.hot.set(name, metric);
    }
    return metric;
  }

  private getOrCreate<T>(name: string, create: () => T): T {
    return (this.registry.getSingleMetric(name) as T | undefined) ?? create();
  }
}
