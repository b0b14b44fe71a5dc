import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const VALIDATOR = join(ROOT, 'scripts', 'validate-deploy.mjs');

/** Runs scripts/validate-deploy.mjs on a directory (an ES module, so in its own process). */
function validate(dir: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [VALIDATOR, dir], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

/** deploy/ copied to a temporary directory, with `edit` applied to one file. */
function brokenCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-deploy-'));
  cpSync(join(ROOT, 'deploy'), dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
  return dir;
}

describe('the Kubernetes manifests in deploy/', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('are valid Kubernetes objects that follow the platform’s rules', () => {
    const { status, output } = validate(join(ROOT, 'deploy'));
    expect(output).toMatch(/deploy: 15 objects valid/);
    expect(status).toBe(0);
  });

  it.each([
    [
      'a field of the wrong type',
      'auth.yaml',
      (t: string) => t.replace('containerPort: 3001', "containerPort: 'http'"),
      /containerPort must be integer/,
    ],
    [
      'a readiness probe off the health endpoint',
      'realtime.yaml',
      (t: string) => t.replace('path: /health/ready', 'path: /'),
      /readiness must be GET \/health\/ready/,
    ],
    [
      'a termination grace shorter than the drain',
      'gateway.yaml',
      (t: string) =>
        t.replace('terminationGracePeriodSeconds: 40', 'terminationGracePeriodSeconds: 30'),
      /terminationGracePeriodSeconds 30 must exceed/,
    ],
    [
      'no route for /socket.io/',
      'ingress.yaml',
      (t: string) => t.replace('path: /socket.io/', 'path: /ws/'),
      /no Ingress sends \/socket.io\/ to lattice-gateway/,
    ],
  ])('refuses %s', (_what, file, edit, message) => {
    const dir = brokenCopy(file, edit);
    dirs.push(dir);
    const { status, output } = validate(dir);
    expect(status).toBe(1);
    expect(output).toMatch(message);
  });
});
