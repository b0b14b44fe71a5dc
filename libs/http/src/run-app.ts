import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigValidationError, loadConfig, type AppName, type Config } from '@lattice/config';
import { ShutdownState } from '@lattice/health';
import { stopTracing } from '@lattice/observability';
import { createApp } from './create-app';

/** Past this, a shutdown that hangs is cut short (Kubernetes' default grace is 30 s). */
const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * The whole life of one app process: validate the environment (exit 1 with one
 * line per bad variable), start, listen, and shut down gracefully on SIGTERM
 * or SIGINT (readiness 503 at once, in-flight requests finish, connections
 * close, exit 0).
 */
export async function runApp(
  appName: AppName,
  rootModule: (config: Config) => DynamicModule,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(appName);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    for (const problem of error.problems)
      process.stderr.write(`${appName}: invalid environment: ${problem}\n`);
    process.exit(1);
  }

  const app = await createApp(config, rootModule(config));
  await app.listen({ port: config.http.port, host: config.http.host });
  process.stdout.write(`${appName} listening on http://${config.http.host}:${config.http.port}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      process.stderr.write(
        `${appName}: shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting\n`,
      );
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    shutDown(app, config).then(
      // The spans of the last requests go out before the process does.
      () => stopTracing().then(() => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`${appName}: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export async function shutDown(app: NestFastifyApplication, config: Config): Promise<void> {
  app.get(ShutdownState).begin();
  if (config.http.shutdownDelayMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, config.http.shutdownDelayMs));
  }
  // Nest 12 closes the HTTP server (in-flight requests finish) before the
  // onApplicationShutdown hooks that close the Redis connections.
  await app.close();
}
