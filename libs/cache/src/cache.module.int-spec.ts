import { Controller, Get, Injectable, Param } from '@nestjs/common';
import { CacheModule, CacheService, type CacheNamespace, type CacheWarmer } from '@lattice/cache';
import { Public } from '@lattice/common';
import { RedisServer, sleep, waitFor } from '@lattice/testing';
import { startTestApp, type TestApp } from '../../../test/fixtures/test-app';

jest.setTimeout(60_000);

let warmRuns = 0;

/** A warmer as an app would write one: given to CacheModule.forRoot, filling its namespace. */
@Injectable()
class CatalogWarmer implements CacheWarmer {
  readonly name = 'catalog';

  async warm(cache: CacheNamespace): Promise<void> {
    warmRuns++;
    await sleep(300); // long enough for every instance to be starting meanwhile
    await cache.namespace('catalog').set('featured', ['a', 'b']);
  }
}

@Public()
@Controller('probe')
class ProbeController {
  constructor(private readonly cache: CacheService) {}

  @Get(':key')
  async read(@Param('key') key: string): Promise<{ value: unknown }> {
    return { value: (await this.cache.namespace('catalog').get(key)) ?? null };
  }
}

describe('CacheModule in an app', () => {
  let redis: RedisServer;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    const start = () =>
      startTestApp({
        env: { REDIS_URL: redis.url },
        imports: [CacheModule.forRoot({ warmers: [CatalogWarmer] }), CacheModule],
        controllers: [ProbeController],
      });
    apps.push(...(await Promise.all([start(), start(), start()])));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await redis?.dispose();
  });

  it('runs a warmer once across the instances starting together', async () => {
    await waitFor('the warm-up', async () => {
      const res = await fetch(apps[2].url('/probe/featured'));
      return res.status === 200 && ((await res.json()) as { value: unknown }).value !== null;
    });
    expect(warmRuns).toBe(1);
    for (const app of apps) {
      expect(await (await fetch(app.url('/probe/featured'))).json()).toEqual({ value: ['a', 'b'] });
    }
    for (const app of apps) {
      const metrics = await (await fetch(app.url('/metrics'))).text();
      const hits = [...metrics.matchAll(/^lattice_cache_hits_total\{tier="l[12]"\} (\d+)$/gm)];
      expect(hits.reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThan(0);
    }
  });
});
