import { isRedisUnavailableError } from './redis-errors';

describe('isRedisUnavailableError', () => {
  it.each([
    "Stream isn't writeable and enableOfflineQueue options is false",
    'Connection is closed.',
    'Command timed out',
    "Cluster isn't ready and enableOfflineQueue options is false",
    'None of startup nodes is available',
    'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
    "READONLY You can't write against a read only replica.",
    'LOADING Redis is loading the dataset in memory',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    "OOM command not allowed when used memory > 'maxmemory'.",
    "OOM command not allowed when used memory > 'maxmemory'. script: 1f0a…, on @user_script:3.",
    'EXECABORT Transaction discarded because of previous errors.',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    'NOREPLICAS Not enough good replicas to write.',
    'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
    'Too many Cluster redirections. Last error: ReplyError: MOVED 6347 127.0.0.1:35489',
    'Too many Cluster redirections. Last error: Error: Connection is closed.',
  ])('is true for "%s"', (message) => {
    expect(isRedisUnavailableError(new Error(message))).toBe(true);
  });

  it.each([
    "CROSSSLOT Keys in request don't hash to the same slot",
    'ERR wrong number of arguments',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'Cannot read properties of undefined',
    'BUSYGROUP Consumer Group name already exists',
    'BUSYKEY Target key name already exists.',
    'NOSCRIPT No matching script. Please use EVAL.',
  ])('is false for "%s", a bug rather than an outage', (message) => {
    expect(isRedisUnavailableError(new Error(message))).toBe(false);
  });

  it('is false for what is not an Error', () => {
    expect(isRedisUnavailableError('Connection is closed.')).toBe(false);
    expect(isRedisUnavailableError(undefined)).toBe(false);
  });
});
