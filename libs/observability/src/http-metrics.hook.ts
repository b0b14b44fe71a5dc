import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { MetricsService } from './metrics.service';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Records every response's duration by route pattern (never the raw URL), method and status. */
@Injectable()
export class HttpMetricsHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance() as FastifyInstance | undefined;
    if (!fastify?.addHook) return;
    const duration = this.metrics.histogram(
      'lattice_http_request_duration_seconds',
      'HTTP request duration by route and status',
      ['method', 'route', 'status'],
      DURATION_BUCKETS,
    );
    fastify.addHook('onResponse', (request, reply, done) => {
      duration
        .child({
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: String(reply.statusCode),
        })
        .observe(reply.elapsedTime / 1000);
      done();
    });
  }
}
