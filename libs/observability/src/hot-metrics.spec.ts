import { Counter, Histogram, Registry } from 'prom-client';
import { MetricsService } from './metrics.service';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string, string, number][] = [
  ['GET', '200', 0.0004],
  ['GET', '200', 0.001], // on a bound: counted in that bucket
  ['GET', '200', 0.05],
  ['GET', '200', 7], // above every bound: only in +Inf
  ['POST', '429', 0.02],
];

/** The exposition text of one metric, lines sorted: series order is not part of the format. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  return (await registry.getSingleMetricAsString(name)).split('\n').sort();
}

describe('hot metrics', () => {
  it('a histogram scrapes exactly as prom-client’s own would, in text and JSON', async () => {
    const metrics = new MetricsService();
    const hot = metrics.histogram('t_duration_seconds', 'help', ['method', 'status'], BUCKETS);
    const reference = new Registry();
    const plain = new Histogram({
      name: 't_duration_seconds',
      help: 'help',
      labelNames: ['method', 'status'],
      buckets: BUCKETS,
      registers: [reference],
    });
    for (const [method, status, seconds] of OBSERVATIONS) {
      hot.child({ method, status }).observe(seconds);
      plain.observe({ method, status }, seconds);
    }
    expect(await lines(metrics.registry, 't_duration_seconds')).toEqual(
      await lines(reference, 't_duration_seconds'),
    );
    const json = async (registry: Registry) =>
      (await registry.getMetricsAsJSON())
        .find((m) => m.name === 't_duration_seconds')!
        .values.map(({ labels, value }) => ({ labels, value }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(await json(metrics.registry)).toEqual(await json(reference));
    expect(await metrics.registry.metrics()).toContain(
      't_duration_seconds_bucket{le="0.001",method="GET",status="200"} 2',
    );

    metrics.registry.resetMetrics();
    expect(await metrics.registry.metrics()).toContain(
      't_duration_seconds_count{method="GET",status="200"} 0',
    );
  });

  it('a counter adds what was counted since the last scrape, and only that', async () => {
    const metrics = new MetricsService();
    const hot = metrics.hotCounter('t_decisions_total', 'help', ['policy', 'outcome']);
    const allowed = hot.child({ policy: 'ip', outcome: 'allowed' });
    hot.child({ policy: 'ip', outcome: 'refused' }); // made, never counted: not shown
    for (let i = 0; i < 3; i++) allowed.inc();
    const text = await metrics.registry.metrics();
    expect(text).toContain('t_decisions_total{policy="ip",outcome="allowed"} 3');
    expect(text).not.toContain('outcome="refused"');

    // A second child of the same labels is the same series; a scrape in between changes nothing.
    hot.child({ policy: 'ip', outcome: 'allowed' }).inc();
    await metrics.registry.metrics();
    allowed.inc();
    expect(await metrics.registry.metrics()).toContain(
      't_decisions_total{policy="ip",outcome="allowed"} 5',
    );
    // Asking for the metric again by name gives the same one.
    expect(metrics.hotCounter('t_decisions_total', 'help', ['policy', 'outcome'])).toBe(hot);
    expect(metrics.registry.getSingleMetric('t_decisions_total')).toBeInstanceOf(Counter);
  });
});
