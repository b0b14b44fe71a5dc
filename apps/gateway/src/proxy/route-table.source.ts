import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { rerunning } from '@lattice/common';
import { CacheService } from '@lattice/cache';
import { ConfigService, parseRoutes, type UpstreamRoute } from '@lattice/config';
import { MetricsService } from '@lattice/observability';
import { REDIS_STARTUP_WAIT_MS, RedisService, RereadSchedule } from '@lattice/redis';
import type { Gauge } from 'prom-client';
import { platformRoutes, proxyRoute, ROUTE_TABLE_KEY, RouteTable } from './route.table';
import { targetLabel } from './upstream.targets';

/**
 * The route table every request is matched against, kept in process. It is
 * ROUTES from the environment unless the cache holds a table under
 * ROUTE_TABLE_KEY; the cache's invalidation feed tells every instance the
 * moment that key is written or deleted anywhere, and the table is read again.
 */
@Injectable()
export class RouteTableSource implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Proxy');
  private readonly platform;
  private readonly fromEnvironment: UpstreamRoute[];
  private table: RouteTable;
  /** The routes the table was built from, to log only real changes. */
  private signature: string;
  private stopWatching?: () => void;
  private readonly reread = new RereadSchedule(
    this.logger,
    'The route table',
    () => void this.refresh(),
  );
  private readonly targetsUp: Gauge<'route' | 'target'>;
  /** Which table the gauge reports: requests still running on a replaced one change nothing. */
  private generation = 0;

  constructor(
    private readonly cache: CacheService,
    config: ConfigService,
    private readonly redis: RedisService,
    metrics: MetricsService,
  ) {
    this.targetsUp = metrics.gauge(
      'lattice_gateway_upstream_target_up',
      'Whether a ROUTES target is in rotation (1) or out after failures (0), by route and target',
      ['route', 'target'],
    );
    const gateway = config.get('gateway');
    this.platform = platformRoutes(gateway.authUrl, gateway.realtimeUrl);
    this.fromEnvironment = gateway.routes;
    this.table = this.build(this.fromEnvironment);
    this.signature = JSON.stringify(this.fromEnvironment);
  }

  /** The table to route by now. */
  get current(): RouteTable {
    return this.table;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.stopWatching = this.cache.watch(ROUTE_TABLE_KEY, () => void this.refresh());
    // A connection still being made is not an outage: the first read waits for it, briefly.
    await this.redis.whenReady(REDIS_STARTUP_WAIT_MS);
    await this.refresh();
  }

  onModuleDestroy(): void {
    this.stopWatching?.();
    this.reread.stop();
  }

  /** Reads the table from the cache again; resolves once the table in use is current. */
  readonly refresh = rerunning(() => this.readOnce());

  private async readOnce(): Promise<void> {
    let stored: unknown;
    try {
      stored = await this.cache.get(ROUTE_TABLE_KEY);
    } catch (error) {
      // Keep routing by the table in use.
      this.reread.failed(error as Error);
      return;
    }
    this.reread.succeeded();
    if (stored === undefined) {
      this.use(this.fromEnvironment, 'ROUTES');
      return;
    }
    const parsed = parseRoutes(JSON.stringify(stored));
    if (!parsed.ok) {
      this.logger.error(
        `The route table in the cache (${ROUTE_TABLE_KEY}) is invalid and was ignored: ${parsed.errors.join('; ')}`,
      );
      this.use(this.fromEnvironment, 'ROUTES');
      return;
    }
    this.use(parsed.routes, `the cache (${ROUTE_TABLE_KEY})`);
  }

  private use(routes: UpstreamRoute[], from: string): void {
    const signature = JSON.stringify(routes);
    if (signature === this.signature) return;
    this.table = this.build(routes);
    this.signature = signature;
    this.logger.log(`Routing by ${routes.length} upstream route(s) from ${from}`);
  }

  /** A table with fresh targets (all in rotation), reported in the gauge from now on. */
  private build(routes: UpstreamRoute[]): RouteTable {
    this.targetsUp.reset();
    const generation = ++this.generation;
    return new RouteTable([
      ...this.platform,
      ...routes.map((route) =>
        proxyRoute(route, (url, inRotation) => {
          if (generation !== this.generation) return;
          this.targetsUp.set({ route: route.prefix, target: targetLabel(url) }, inRotation ? 1 : 0);
        }),
      ),
    ]);
  }
}
