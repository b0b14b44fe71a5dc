import type { DynamicModule, ModuleMetadata, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { loadConfig, type AppName, type Config } from '@lattice/config';
import { createApp, PlatformModule } from '@lattice/http';
import type { RateLimitPolicy } from '@lattice/rate-limit';

export interface TestApp {
  app: NestFastifyApplication;
  config: Config;
  url(path: string): string;
  close(): Promise<void>;
}

/**
 * An app built in process exactly as main.ts builds it (same module, filters,
 * pipes, adapter), listening on a free port, with extra controllers for the
 * test. For behaviour that needs a real process, use AppProcess instead.
 */
export async function startTestApp(options: {
  app?: AppName;
  env?: Record<string, string>;
  controllers?: Type[];
  imports?: NonNullable<ModuleMetadata['imports']>;
  /** Named rate-limit policies, beside the environment's. */
  rateLimitPolicies?: RateLimitPolicy[];
}): Promise<TestApp> {
  const config = loadConfig(options.app ?? 'gateway', { LOG_LEVEL: 'fatal', ...options.env });
  class TestRootModule {}
  const root: DynamicModule = {
    module: TestRootModule,
    imports: [
      PlatformModule.forRoot(config, { rateLimitPolicies: options.rateLimitPolicies }),
      ...(options.imports ?? []),
    ],
    controllers: options.controllers ?? [],
  };
  const app = await createApp(config, root);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    config,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => app.close(),
  };
}
