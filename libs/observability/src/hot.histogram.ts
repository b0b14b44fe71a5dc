import { seriesOf } from './hot-series';

interface HistogramSeries {
  labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last one is above every bound. */
  counts: number[];
  sum: number;
  count: number;
  observe(value: number): void;
}

/** One line of a scrape as prom-client's registry reads it: `le` first, then the series' labels. */
interface ScrapedValue {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string | number>;
  value: number;
}

interface ScrapedMetric {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: ScrapedValue[];
}

/**
 * A histogram for per-request paths, registered in prom-client's registry as
 * a metric of its own (the registry reads it through `getForPromString()`
 * and `get()`, and clears it with `reset()`). prom-client's Histogram hashes
 * the label values of every observation and keys buckets by their float
 * bounds; a child of this one finds its bucket in a plain array. It exposes
 * the same series as prom-client's: `_bucket` (cumulative, with `le`), `_sum`
 * and `_count`.
 */
export class HotHistogram<L extends string> {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
  ) {}

  /** The series of one set of label values (made on first use): a map lookup, then a plain add. */
  child(labels: Record<L, string>): { observe(value: number): void } {
    return seriesOf(this.series, this.labelNames, labels, this.makeSeries);
  }

  private readonly makeSeries = (labels: Record<L, string>): HistogramSeries => {
    const buckets = this.buckets;
    const made: HistogramSeries = {
      labels: { ...(labels as Record<string, string>) },
      counts: new Array<number>(buckets.length + 1).fill(0),
      sum: 0,
      count: 0,
      observe: (value: number) => {
        let bucket = 0;
        while (bucket < buckets.length && value > buckets[bucket]) bucket++;
        made.counts[bucket]++;
        made.sum += value;
        made.count++;
      },
    };
    return made;
  };

  /** The text exposition's view (prom-client's registry prefers it to `get()`). */
  getForPromString(): Promise<ScrapedMetric> {
    const values: ScrapedValue[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      const bucket = `${this.name}_bucket`;
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += counts[i];
        values.push({
          metricName: bucket,
          labels: { le: this.buckets[i] },
          sharedLabels: labels,
          value: cumulative,
        });
      }
      values.push(
        { metricName: bucket, labels: { le: '+Inf' }, sharedLabels: labels, value: count },
        { metricName: `${this.name}_sum`, labels: {}, sharedLabels: labels, value: sum },
        { metricName: `${this.name}_count`, labels: {}, sharedLabels: labels, value: count },
      );
    }
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }

  /** The JSON view (`registry.getMetricsAsJSON()`): each value with all its labels. */
  async get(): Promise<ScrapedMetric> {
    const metric = await this.getForPromString();
    const values = metric.values.map(({ metricName, labels, sharedLabels, value }) => ({
      metricName,
      labels: { ...labels, ...sharedLabels },
      sharedLabels: {},
      value,
    }));
    return { ...metric, values };
  }

  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
