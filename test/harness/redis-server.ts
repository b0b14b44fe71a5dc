import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlainConnection } from '@lattice/redis';
import { freePort } from './free-port';
import { waitFor } from './wait';

/**
 * The process id of the redis-server answering on `port` (INFO server), or
 * null when none answers: tells our server from another that took the port.
 */
function answeringPid(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (pid: number | null) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(500, () => done(null));
    socket.once('error', () => done(null));
    socket.on('data', (data) => {
      reply += data.toString();
      const match = /process_id:(\d+)/.exec(reply);
      if (match) done(Number(match[1]));
      else if (!reply.startsWith('$')) done(null); // not a bulk reply: not a Redis that answers INFO
    });
    socket.connect(port, '127.0.0.1', () => socket.write('INFO server\r\n'));
  });
}

/** Attempts of RedisServer.start, each on another free port, when the port was taken meanwhile. */
const START_ATTEMPTS = 3;

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/** Keys matching `pattern` on one Redis, with SCAN as the platform itself would (never KEYS). */
export async function scanKeys(
  raw: Pick<ReturnType<typeof createPlainConnection>, 'scan'>,
  pattern: string,
): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/**
 * A private redis-server for one suite, on a free port, keeping nothing on
 * disk. It can be stopped, killed and restarted on the same port, so tests can
 * show what the apps do while Redis is away.
 */
export class RedisServer {
  readonly mode = 'standalone' as const;
  private process: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'lattice-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
    /** A Sentinel: the config file it was started with (Sentinel rewrites it as it learns). */
    private readonly sentinelConfig?: string,
  ) {}

  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    // A free port may be taken by another process (another suite's server, an app)
    // before redis-server binds it: then it exits at once, and another port is tried.
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort(), extraArgs);
      try {
        await server.restart();
        return server;
      } catch (error) {
        await server.dispose();
        if (!(error instanceof PortTakenError) || attempt === START_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * A `redis-server --sentinel` on a free port, with the directives of
   * `config` (given the port) in a config file of its own directory.
   */
  static async startSentinel(config: (port: number) => string[]): Promise<RedisServer> {
    const port = await freePort();
    const server = new RedisServer(port, [], 'sentinel.conf');
    writeFileSync(
      join(server.dir, 'sentinel.conf'),
      [`port ${port}`, 'bind 127.0.0.1', `dir ${server.dir}`, ...config(port), ''].join('\n'),
    );
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** What an app needs to use this Redis. */
  get env(): { REDIS_URL: string } {
    return { REDIS_URL: this.url };
  }

  get running(): boolean {
    return this.process !== null;
  }

  /** The redis-server's process id while it runs (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts it again on the same port (it comes back empty). */
  async restart(): Promise<void> {
    if (this.process) return;
    const args = this.sentinelConfig
      ? [join(this.dir, this.sentinelConfig), '--sentinel']
      : [
          '--port',
          String(this.port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          this.dir,
          ...this.extraArgs,
        ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (this.process === child) this.process = null;
    });
    // Ready when this process answers (another server on the port would answer too),
    // or at once when it exited: its port was taken.
    await waitFor(
      `redis-server on port ${this.port}`,
      async () => exited || (await answeringPid(this.port)) === child.pid,
      10_000,
    );
    if (exited) throw new PortTakenError(this.port);
  }

  /** Graceful stop: clients see the connection close. */
  stop(): Promise<void> {
    return this.end('SIGTERM');
  }

  /** Abrupt death, as when the machine under Redis fails. */
  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  /** A raw connection (no prefix) for reading back what the apps wrote. */
  client() {
    return createPlainConnection(this.url);
  }

  /** Every key matching `pattern` (SCAN, not KEYS). */
  async keys(pattern: string): Promise<string[]> {
    const raw = this.client();
    try {
      return await scanKeys(raw, pattern);
    } finally {
      raw.disconnect();
    }
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    await waitFor(`port ${this.port} to close`, async () => !(await pingOnce(this.port)), 5_000);
  }
}

/** redis-server exited before answering: its port was taken (or its arguments refused). */
class PortTakenError extends Error {
  constructor(port: number) {
    super(`redis-server exited before answering on port ${port} (is the port taken?)`);
  }
}
