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
  ])('is true for "%s"', (message) => {
    expect(isRedisUnavailableError(new Error(message))).toBe(true);
  });

  it.each([
    "CROSSSLOT Keys in request don't hash to the same slot",
    'ERR wrong number of arguments',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'Cannot read properties of undefined',
  ])('is false for "%s", a bug rather than an outage', (message) => {
    expect(isRedisUnavailableError(new Error(message))).toBe(false);
  });

  it('is false for what is not an Error', () => {
    expect(isRedisUnavailableError('Connection is closed.')).toBe(false);
    expect(isRedisUnavailableError(undefined)).toBe(false);
  });
});
