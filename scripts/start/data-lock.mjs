// One `npm start` at a time owns .lattice/redis: two servers writing one
// append-only file would corrupt it. The lock file names the owning script
// and its server's port; an owner that died (SIGKILL) leaves a stale lock,
// and the caller stops its orphaned server before using the data again.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

function readLock(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Takes the lock of `dataDir`; returns `{ orphanPort, holdServer(port),
 * release() }`, `orphanPort` being the port of a server a dead owner left
 * (or null). Throws `busy(ownerPid)` when a live `npm start` holds it.
 */
export function lockDataDir(dataDir, busy) {
  const file = join(dataDir, 'lock.json');
  const previous = readLock(file);
  let orphanPort = null;
  if (previous && Number.isInteger(previous.owner) && previous.owner !== process.pid) {
    if (isAlive(previous.owner)) throw busy(previous.owner);
    if (Number.isInteger(previous.port)) orphanPort = previous.port;
  }
  const write = (port) => writeFileSync(file, JSON.stringify({ owner: process.pid, port }), 'utf8');
  write(null);
  return {
    orphanPort,
    holdServer: (port) => write(port),
    release: () => rmSync(file, { force: true }),
  };
}
