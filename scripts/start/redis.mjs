// The Redis that `npm start` hands to the apps (CONTRACT 8.1): the configured
// one when REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS is set; else the
// one answering at DEFAULT_REDIS_URL; else a private redis-server (or
// valkey-server) this script starts on a free loopback port, its data kept
// under .lattice/ with the append-only file on. The apps never start one.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';
import { Redis } from 'ioredis';
import { lockDataDir } from './data-lock.mjs';

const SERVER_NAMES = ['redis-server', 'valkey-server'];
const PROBE_TIMEOUT_MS = 500;
const SERVER_START_TIMEOUT_MS = 15_000;
const SERVER_STOP_TIMEOUT_MS = 10_000;

/** Thrown when no Redis can be had; its message is for the user, as it is. */
export class NoRedisError extends Error {}

const isSet = (value) => value !== undefined && value !== '';

/** A URL fit to print: its password, if any, replaced. */
export function printableUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

/** Whether a Redis answers PING at `url` within `timeoutMs`. */
export async function answersPing(url, timeoutMs = PROBE_TIMEOUT_MS) {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // a refused probe is an answer, not a fault
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** REDIS_SERVER_BIN when set, else the first redis-server or valkey-server on PATH. */
function findServerBinary(env) {
  if (isSet(env.REDIS_SERVER_BIN)) {
    if (isExecutable(env.REDIS_SERVER_BIN)) return env.REDIS_SERVER_BIN;
    throw new NoRedisError(
      `lattice: REDIS_SERVER_BIN (${env.REDIS_SERVER_BIN}) is not an executable file.`,
    );
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of SERVER_NAMES) {
    for (const dir of dirs) if (isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

const howToGetRedis = (probed) =>
  [
    `lattice: no Redis is configured, none answers at ${printableUrl(probed)}, and no`,
    'redis-server (or valkey-server) is on PATH to start one. Either install one:',
    '  Debian/Ubuntu:  sudo apt-get install redis-server',
    '  macOS:          brew install redis',
    '  Docker:         docker run -d --name redis -p 6379:6379 redis:7',
    'or name the binary with REDIS_SERVER_BIN=/path/to/redis-server, or use an existing',
    'Redis: REDIS_URL=redis://host:6379 npm start (or REDIS_CLUSTER_NODES, or',
    'REDIS_SENTINELS with REDIS_SENTINEL_NAME).',
  ].join('\n');

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const tail = (file) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
};

/** Stops the server a killed `npm start` left running on `port`, should it still run. */
async function shutDownOrphan(port) {
  const url = `redis://127.0.0.1:${port}`;
  if (!(await answersPing(url))) return;
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.call('SHUTDOWN'); // answered by the connection closing
  } catch {
    // expected
  } finally {
    client.disconnect();
  }
  console.log(`lattice: stopped the private Redis a killed npm start left at ${url}`);
}

/** Starts `binary` on a free loopback port with its data in `dataDir`; resolves once it answers PING. */
async function startPrivateServer(binary, dataDir) {
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(
    dataDir,
    (owner) =>
      new NoRedisError(
        `lattice: another npm start (pid ${owner}) is using the data in ${dataDir}; stop it first.`,
      ),
  );
  if (lock.orphanPort !== null) await shutDownOrphan(lock.orphanPort);
  const port = await freeLoopbackPort();
  const logFile = join(dataDir, 'server.log');
  // Its own process group: a Ctrl-C at the terminal reaches the apps, not the
  // server, which is stopped after they have drained.
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDir,
      '--appendonly',
      'yes',
      '--logfile',
      logFile,
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore', detached: true },
  );
  lock.holdServer(port);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      lock.release();
      resolve(signal ?? code);
    }),
  );
  const failed = new Promise((resolve) =>
    child.once('error', (error) => {
      lock.release();
      resolve(error);
    }),
  );
  // Should this script end without stopping it (an uncaught error), take it along.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  for (;;) {
    const early = await Promise.race([
      exited.then((how) => `exited (${how})`),
      failed.then((error) => `could not run (${error.message})`),
      answersPing(url).then((ok) => (ok ? 'ready' : undefined)),
    ]);
    if (early === 'ready') break;
    if (early !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = tail(logFile);
      throw new NoRedisError(
        `lattice: ${binary} ${early ?? 'did not answer in time'}` + (log ? `:\n${log}` : ''),
      );
    }
    await sleep(100);
  }

  return {
    url,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM'); // redis-server flushes the append-only file, then exits
      // It refuses to exit when its final save fails (its folder gone, a full
      // disk); the append-only file is at most a second behind, so end it.
      const refused = setTimeout(() => {
        console.error(`lattice: the private Redis did not stop (see ${logFile}); killing it`);
        child.kill('SIGKILL');
      }, SERVER_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(refused);
    },
    /** Resolves with how the server ended, should it end by itself. */
    exited,
  };
}

/**
 * The Redis for this run: `{ env, summary, stop, exited }`, `env` being what
 * to add to the apps' environment. Throws NoRedisError when there is none.
 */
export async function provideRedis(env, root) {
  if (isSet(env.REDIS_CLUSTER_NODES)) return configured('the Redis Cluster at REDIS_CLUSTER_NODES');
  if (isSet(env.REDIS_SENTINELS)) return configured('the Redis behind REDIS_SENTINELS');
  if (isSet(env.REDIS_URL)) return configured(`the Redis at ${printableUrl(env.REDIS_URL)}`);

  const probed = isSet(env.DEFAULT_REDIS_URL) ? env.DEFAULT_REDIS_URL : 'redis://127.0.0.1:6379';
  if (await answersPing(probed)) {
    return { ...configured(`the Redis at ${printableUrl(probed)}`), env: { REDIS_URL: probed } };
  }

  const binary = findServerBinary(env);
  if (binary === null) throw new NoRedisError(howToGetRedis(probed));
  const dataDir = join(root, '.lattice', 'redis');
  const server = await startPrivateServer(binary, dataDir);
  return {
    env: { REDIS_URL: server.url },
    summary: `a private Redis (${binary}) at ${server.url}, data in ${dataDir}`,
    stop: server.stop,
    exited: server.exited,
  };
}

function configured(summary) {
  return { env: {}, summary, stop: async () => {}, exited: new Promise(() => {}) };
}
