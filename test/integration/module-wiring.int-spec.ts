import type { DynamicModule, Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CacheService } from '@lattice/cache';
import { loadConfig, type AppName, type Config } from '@lattice/config';
import { ShutdownState } from '@lattice/health';
import { createApp } from '@lattice/http';
import { LockService } from '@lattice/lock';
import { MetricsService } from '@lattice/observability';
import { PresenceStore } from '@lattice/presence';
import { RateLimitService } from '@lattice/rate-limit';
import { RedisService } from '@lattice/redis';
import { SessionService } from '@lattice/session';
import { RedisServer } from '@lattice/testing';
import { AuthModule } from '../../apps/auth/src/auth.module';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { RealtimeModule } from '../../apps/realtime/src/realtime.module';

const ROOTS: Record<AppName, (config: Config) => DynamicModule> = {
  gateway: (config) => GatewayModule.forRoot(config),
  auth: (config) => AuthModule.forRoot(config),
  realtime: (config) => RealtimeModule.forRoot(config),
};

/** The lib providers each app uses from several of its modules, and must have once. */
const SHARED: Record<AppName, Type[]> = {
  gateway: [
    RedisService,
    MetricsService,
    LockService,
    CacheService,
    RateLimitService,
    SessionService,
    PresenceStore,
    ShutdownState,
  ],
  auth: [RedisService, MetricsService, LockService, RateLimitService, SessionService],
  realtime: [RedisService, MetricsService, LockService, RateLimitService, PresenceStore],
};

/** The names of the modules of `app` that declare `provider` (not merely import it). */
function declaringModules(app: NestFastifyApplication, provider: Type): string[] {
  return [...app.get(ModulesContainer).values()]
    .filter((module) => module.providers.has(provider))
    .map((module) => module.metatype.name);
}

/**
 * Lib modules import what they use, and many import the same lib module
 * (RedisModule from LockModule, CacheModule, SessionModule, the gateway's
 * feature modules...). Each app must still have one instance of each shared
 * provider: one set of Redis connections, one metrics registry, one lock
 * service, whichever module a consumer sits in.
 */
describe.each(['gateway', 'auth', 'realtime'] as AppName[])('the %s app’s wiring', (name) => {
  let redis: RedisServer;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const config = loadConfig(name, { REDIS_URL: redis.url, LOG_LEVEL: 'fatal' });
    app = await createApp(config, ROOTS[name](config));
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.dispose();
  });

  it('declares each shared lib provider in exactly one module', () => {
    for (const provider of SHARED[name]) {
      expect({ provider: provider.name, in: declaringModules(app, provider) }).toEqual({
        provider: provider.name,
        in: [expect.any(String)],
      });
    }
  });

  it('gives every module that imports RedisModule the same RedisService', () => {
    const redisService = app.get(RedisService);
    const users = [...app.get(ModulesContainer).values()].filter((module) =>
      [...module.imports].some((imported) => imported.providers.has(RedisService)),
    );
    expect(users.length).toBeGreaterThan(1);
    for (const module of users) {
      const imported = [...module.imports].find((each) => each.providers.has(RedisService))!;
      expect(imported.providers.get(RedisService)!.instance).toBe(redisService);
    }
  });
});
