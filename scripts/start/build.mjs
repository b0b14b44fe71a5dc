// Builds when the sources are newer than the last build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

function sourcesChanged(root) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const inputs = ['package-lock.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) =>
    join(root, f),
  );
  return (
    Math.max(newestSource(join(root, 'apps')), newestSource(join(root, 'libs'))) > built ||
    inputs.some((f) => existsSync(f) && statSync(f).mtimeMs > built)
  );
}

export function buildIfChanged(root) {
  if (!sourcesChanged(root)) return;
  console.log('lattice: building…');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
}
