import type { Logger } from '@nestjs/common';
import type { HotCounter, MetricsService } from '@lattice/observability';
import type { RateLimitDecision } from './rate-limit.types';

/** Where a decision came from, for the metrics. */
export const SOURCES = ['redis', 'lease', 'cache', 'memory'] as const;
export type Source = (typeof SOURCES)[number];

/** A shadow policy logs its would-be refusals at most once per this many ms. */
const SHADOW_LOG_INTERVAL_MS = 1000;

/**
 * What the limiter reports of its decisions: the decision counter (per
 * policy, outcome and source) and the log line of a shadow policy's
 * would-be refusal.
 */
export class DecisionReporter {
  private readonly decisions: HotCounter<'policy' | 'outcome' | 'source'>;
  /** Per policy: its counters by outcome (allowed, refused) and source. */
  private readonly decisionCounters = new Map<string, { inc(): void }[]>();
  /** Per shadow policy: when it last logged a would-be refusal. */
  private readonly shadowLogged = new Map<string, number>();

  constructor(
    metrics: MetricsService,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    this.decisions = metrics.hotCounter(
      'lattice_rate_limit_decisions_total',
      'Rate-limit decisions by policy, outcome (allowed, refused) and source (redis, lease, cache, memory)',
      ['policy', 'outcome', 'source'],
    );
  }

  count(policy: string, allowed: boolean, source: Source): void {
    let counters = this.decisionCounters.get(policy);
    if (!counters) {
      // The series of a policy, found once: counting a decision is then an index and an add.
      counters = [];
      for (const outcome of ['allowed', 'refused']) {
        for (const from of SOURCES) {
          counters.push(this.decisions.child({ policy, outcome, source: from }));
        }
      }
      this.decisionCounters.set(policy, counters);
    }
    counters[(allowed ? 0 : SOURCES.length) + SOURCES.indexOf(source)].inc();
  }

  shadowRefusal(decision: RateLimitDecision): void {
    const now = Date.now();
    const last = this.shadowLogged.get(decision.name) ?? 0;
    if (now - last < SHADOW_LOG_INTERVAL_MS) return;
    this.shadowLogged.set(decision.name, now);
    this.logger.warn(
      `Shadow rate limit "${decision.name}" (${decision.limit} per ${decision.windowSeconds} s) would have refused a request (retry in ${decision.retryAfterSeconds} s); not enforced`,
    );
  }
}
