export { RedisServer } from './redis-server';
export { AppProcess, builtEntry } from './app-process';
export type { AppName } from './app-process';
export { freePort } from './free-port';
export { sleep, waitFor } from './wait';
