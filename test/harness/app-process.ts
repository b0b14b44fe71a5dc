import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait';

export type AppName = 'gateway' | 'auth' | 'realtime';

const ROOT = join(__dirname, '..', '..');

export function builtEntry(app: AppName): string {
  const entry = join(ROOT, 'dist', 'apps', app, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  return entry;
}

/**
 * One built app running as a real process on a free port, as in production:
 * configured only by environment variables. Output is kept for assertions and
 * shown when a test fails.
 */
export class AppProcess {
  private output = '';
  private exit: Promise<number | null>;

  private constructor(
    readonly app: AppName,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Spawns the app and waits until GET /health/live answers 200. */
  static async start(app: AppName, env: Record<string, string> = {}): Promise<AppProcess> {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const child = spawn(process.execPath, [builtEntry(app)], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new AppProcess(app, port, child);
    try {
      await waitFor(
        `${app} to answer /health/live`,
        async () => {
          if (child.exitCode !== null)
            throw new Error(`${app} exited with ${child.exitCode}: ${proc.output}`);
          const res = await fetch(proc.url('/health/live')).catch(() => null);
          return res?.status === 200;
        },
        // Generous: several apps starting at once on a small machine take a while.
        30_000,
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return proc;
  }

  /** Runs the app to its exit, for start-up failures: the exit code and what it printed. */
  static async runToExit(
    app: AppName,
    env: Record<string, string>,
  ): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [builtEntry(app)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    return { code, output };
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  get logs(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a signal (SIGTERM by default) and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit;
  }

  /** Resolves with the exit code whenever the process ends. */
  exited(): Promise<number | null> {
    return this.exit;
  }

  kill(): Promise<number | null> {
    return this.stop('SIGKILL');
  }
}
