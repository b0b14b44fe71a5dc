import type { ModuleMetadata, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ConfigModule, loadConfig, type AppName, type Config } from '@lattice/config';

/** One app instance's lib modules, built and started by Nest. */
export interface PlatformInstance {
  config: Config;
  /** The Nest module behind it, e.g. to `select` one lib module's providers. */
  module: TestingModule;
  /** A provider of any of its modules, e.g. `get(LockService)`. */
  get<T>(type: Type<T>): T;
  /**
   * Runs the shutdown hooks, as an app's close does (locks released,
   * connections closed); once, however often it is called.
   */
  close(): Promise<void>;
}

/**
 * A platform instance with these lib modules on the Redis `env` names
 * (REDIS_URL or REDIS_CLUSTER_NODES, KEY_PREFIX, ...), wired by Nest exactly
 * as in an app: `ConfigModule.forRoot(loadConfig(app, env))` plus `imports`
 * (each lib module imports what it needs), then the start-up hooks. Several
 * instances can run in one test process, each with its own connections, as
 * separate app instances would.
 */
export async function startPlatform(options: {
  env: Record<string, string>;
  imports: NonNullable<ModuleMetadata['imports']>;
  /** The app whose environment table applies. Default gateway. */
  app?: AppName;
}): Promise<PlatformInstance> {
  const config = loadConfig(options.app ?? 'gateway', { LOG_LEVEL: 'fatal', ...options.env });
  const module = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), ...options.imports],
  }).compile();
  await module.init();
  let closing: Promise<void> | undefined;
  return {
    config,
    module,
    get: (type) => module.get(type, { strict: false }),
    close: () => (closing ??= module.close()),
  };
}
