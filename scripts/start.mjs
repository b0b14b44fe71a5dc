// `npm start`: builds when the sources are newer than the last build, then runs
// gateway, auth and realtime together. Each app reads the environment; the
// ports default to 3000/3001/3002 and can be moved with GATEWAY_PORT,
// AUTH_PORT and REALTIME_PORT (the gateway is pointed at the moved ones).
// Ctrl-C or SIGTERM stops all three gracefully; if one dies, the others stop.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
const APPS = [
  { name: 'gateway', port: process.env.GATEWAY_PORT ?? '3000' },
  { name: 'auth', port: process.env.AUTH_PORT ?? '3001' },
  { name: 'realtime', port: process.env.REALTIME_PORT ?? '3002' },
];

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

const sourcesChanged = () => {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const inputs = ['package-lock.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) =>
    join(root, f),
  );
  return (
    Math.max(newestSource(join(root, 'apps')), newestSource(join(root, 'libs'))) > built ||
    inputs.some((f) => existsSync(f) && statSync(f).mtimeMs > built)
  );
};

if (sourcesChanged()) {
  console.log('lattice: building…');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
}

const host = process.env.HOST ?? '127.0.0.1';
const upstreamHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
const children = APPS.map(({ name, port }) => {
  const env = { ...process.env, PORT: port };
  if (name === 'gateway') {
    env.AUTH_URL ??= `http://${upstreamHost}:${APPS[1].port}`;
    env.REALTIME_URL ??= `http://${upstreamHost}:${APPS[2].port}`;
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

for (const { name, child } of children) {
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`lattice: ${name} exited (${signal ?? code}); stopping the others`);
      exitCode = 1;
      stopAll('SIGTERM');
    } else if (code !== 0) {
      exitCode = code ?? 1;
    }
    if (children.every((c) => c.child.exitCode !== null || c.child.signalCode !== null)) {
      process.exit(exitCode);
    }
  });
}

process.on('SIGINT', () => stopAll('SIGTERM'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
