import { Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/**
 * The app's one Prometheus registry (MetricsService), for every module that
 * records metrics. Kept apart from ObservabilityModule so that a lib needing
 * only metrics (Redis, cache, limits, presence) does not bring the logger and
 * the HTTP hooks with it; ObservabilityModule re-exports it.
 */
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
