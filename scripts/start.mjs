// `npm start`: finds or starts a Redis (scripts/start/redis.mjs), builds when
// the sources are newer than the last build, then runs gateway, auth and
// realtime together and prints a banner once all three are ready. The ports
// default to 3000/3001/3002 and can be moved with GATEWAY_PORT, AUTH_PORT and
// REALTIME_PORT (the gateway is pointed at the moved ones). Ctrl-C or SIGTERM
// stops the apps gracefully, then the private Redis, if one was started; if
// an app (or that Redis) dies, everything else stops and the exit is non-zero.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allReady, banner } from './start/banner.mjs';
import { buildIfChanged } from './start/build.mjs';
import { NoRedisError, provideRedis } from './start/redis.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const APPS = [
  { name: 'gateway', port: process.env.GATEWAY_PORT ?? '3000' },
  { name: 'auth', port: process.env.AUTH_PORT ?? '3001' },
  { name: 'realtime', port: process.env.REALTIME_PORT ?? '3002' },
];

let redis;
try {
  redis = await provideRedis(process.env, root);
} catch (error) {
  if (!(error instanceof NoRedisError)) throw error;
  console.error(error.message);
  process.exit(1);
}
console.log(`lattice: using ${redis.summary}`);

try {
  buildIfChanged(root);
} catch {
  await redis.stop();
  process.exit(1);
}

const host = process.env.HOST ?? '127.0.0.1';
const localHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
const urlOf = (port) => `http://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`;
const children = APPS.map(({ name, port }) => {
  const env = { ...process.env, ...redis.env, PORT: port };
  if (name === 'gateway') {
    env.AUTH_URL ??= urlOf(APPS[1].port);
    env.REALTIME_URL ??= urlOf(APPS[2].port);
  } else if (host === '127.0.0.1' || host === 'localhost') {
    // Reachable only through the gateway on this machine: its X-Forwarded-For is the client.
    env.TRUST_PROXY ??= 'true';
  }
  const child = spawn(process.execPath, [join(root, 'dist', 'apps', name, 'main.js')], {
    env,
    stdio: 'inherit',
  });
  return { name, child };
});

let stopping = false;
let exitCode = 0;
const stopAll = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) if (child.exitCode === null) child.kill(signal);
};
const allExited = () =>
  children.every(({ child }) => child.exitCode !== null || child.signalCode !== null);

for (const { name, child } of children) {
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`lattice: ${name} exited (${signal ?? code}); stopping the others`);
      exitCode = 1;
      stopAll('SIGTERM');
    } else if (code !== 0) {
      exitCode = code ?? 1;
    }
    // The Redis goes last, once every app has drained.
    if (allExited()) redis.stop().then(() => process.exit(exitCode));
  });
}

redis.exited.then((how) => {
  if (stopping) return;
  console.error(`lattice: the private Redis exited (${how}); stopping the apps`);
  exitCode = 1;
  stopAll('SIGTERM');
});

process.on('SIGINT', () => stopAll('SIGTERM'));
process.on('SIGTERM', () => stopAll('SIGTERM'));

if (
  await allReady(
    APPS.map(({ port }) => urlOf(port)),
    () => stopping,
  )
) {
  console.log(
    banner({
      gatewayUrl: urlOf(APPS[0].port),
      redisSummary: redis.summary,
      adminLogin:
        process.env.ADMIN_LOGIN && process.env.ADMIN_PASSWORD ? process.env.ADMIN_LOGIN : '',
    }),
  );
}
