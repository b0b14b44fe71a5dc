// Builds every app into dist/: compiled TypeScript with @lattice/* aliases
// rewritten to relative paths, the non-TypeScript assets the code loads at run
// time (Lua scripts), and dist/apps/<app>/main.js as each app's entry point.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const APPS = ['gateway', 'auth', 'realtime'];
const ASSET = /\.(lua|html|css|js)$/;
const bin = (name) => join(root, 'node_modules', '.bin', name);

function* files(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

// Built beside dist/ and swapped in at the end, so apps already running from
// dist/ (another build, a test run) never see it half-written.
const next = join(root, `.dist-${process.pid}`);
rmSync(next, { recursive: true, force: true });
try {
  execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json', '--outDir', next], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  // The compiler has printed why; leave no half-built directory behind.
  rmSync(next, { recursive: true, force: true });
  process.exit(1);
}
execFileSync(bin('tsc-alias'), ['-p', 'tsconfig.build.json', '--outDir', next], {
  cwd: root,
  stdio: 'inherit',
});

for (const top of ['apps', 'libs']) {
  for (const file of files(join(root, top))) {
    if (!ASSET.test(file) || file.endsWith('.ts')) continue;
    const target = join(next, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}

for (const app of APPS) {
  // Tracing first: OpenTelemetry patches http, undici and ioredis as they are required.
  writeFileSync(
    join(next, 'apps', app, 'main.js'),
    `'use strict';\nrequire('../../libs/observability/src/tracing.js').startTracing('${app}');\nrequire('./src/main.js');\n`,
  );
}
writeFileSync(join(next, '.build-stamp'), `${new Date().toISOString()}\n`);

const previous = `${next}-old`;
if (existsSync(dist)) renameSync(dist, previous);
renameSync(next, dist);
rmSync(previous, { recursive: true, force: true });
console.log(`built ${APPS.map((a) => `dist/apps/${a}/main.js`).join(', ')}`);
