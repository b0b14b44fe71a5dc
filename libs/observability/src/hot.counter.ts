import type { Counter, LabelValues } from 'prom-client';
import { seriesOf } from './hot-series';

interface CounterSeries<L extends string> {
  labels: LabelValues<L>;
  count: number;
  reported: number;
  inc(): void;
}

/**
 * A counter for per-request paths. prom-client hashes the label values on
 * every `inc()`, through `labels()` children too; a child of this one adds to
 * a plain number, and the prom-client counter it belongs to is handed the
 * totals when it is scraped (MetricsService wires `reportTo` as its `collect`).
 */
export class HotCounter<L extends string> {
  private readonly series = new Map<string, CounterSeries<L>>();

  constructor(private readonly labelNames: readonly L[]) {}

  /** The series of one set of label values (made on first use): a map lookup, then a plain add. */
  child(labels: Record<L, string>): { inc(): void } {
    return seriesOf(this.series, this.labelNames, labels, this.makeSeries);
  }

  private readonly makeSeries = (labels: Record<L, string>): CounterSeries<L> => {
    const made: CounterSeries<L> = {
      labels: { ...labels },
      count: 0,
      reported: 0,
      inc: () => void made.count++,
    };
    return made;
  };

  /** Adds to `counter` what each series counted since the last report. */
  reportTo(counter: Counter<L>): void {
    for (const series of this.series.values()) {
      if (series.count === series.reported) continue;
      counter.inc(series.labels, series.count - series.reported);
      series.reported = series.count;
    }
  }
}
