import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A new worker id: host and pid to tell people which process it was, and
 * random bits because an id is never used twice (a worker that lost its lease
 * comes back under a new one).
 */
export function newWorkerId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .slice(0, 40);
  return `${host}-${process.pid}-${randomBytes(6).toString('base64url')}`;
}
