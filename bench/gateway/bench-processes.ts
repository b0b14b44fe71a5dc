// What the gateway benchmarks share: starting their helper servers, and an account per gateway.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@lattice/testing';

/** Runs one of this folder's servers on a free port; resolves once it prints "ready". */
export async function startScript(
  script: string,
  env: Record<string, string>,
): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', join(__dirname, '..', 'register.cjs'), join(__dirname, script)],
    { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { port, child };
}

/** A new account's bearer token through a gateway: each gateway gets its own, so its counters are its own. */
export async function signIn(url: (path: string) => string, login: string): Promise<string> {
  const json = { 'content-type': 'application/json' };
  const account = { login, name: 'Bench', password: 'password-123' };
  await fetch(url('/auth/register'), {
    method: 'POST',
    headers: json,
    body: JSON.stringify(account),
  });
  const signedIn = await fetch(url('/auth/login'), {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ login: account.login, password: account.password }),
  });
  return ((await signedIn.json()) as { token: string }).token;
}
