import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RedisCluster,
  RedisServer,
  sleep,
  startPlatform,
  waitFor,
  type PlatformInstance,
} from '@lattice/testing';
import type { Cluster } from 'ioredis';
import { SWEEP_MS } from './command.watchdog';
import { COMMAND_TIMEOUT_MS } from './redis-options.factory';
import { RedisModule } from './redis.module';
import { RedisService } from './redis.service';

/**
 * How `command` settled and after how many ms: its error's message, 'answered',
 * or 'still waiting' when it had not settled three times the bound later (so
 * a command that is never failed fails the test instead of hanging it).
 */
async function outcomeOf(command: Promise<unknown>): Promise<{ outcome: string; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    command.then(
      () => 'answered',
      (error: Error) => error.message,
    ),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still waiting'), 3 * COMMAND_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  return { outcome, ms: Date.now() - started };
}

/** A command fails once its bound has passed, and at most two sweeps later (plus a loaded machine's lag). */
function expectTimedOut({ outcome, ms }: { outcome: string; ms: number }): void {
  expect(outcome).toBe('Command timed out');
  expect(ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 5);
  expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 2 * SWEEP_MS + 600);
}

/** RedisModule as an app builds it; its RedisService. */
async function serviceFor(
  env: Record<string, string>,
): Promise<{ platform: PlatformInstance; service: RedisService }> {
  const platform = await startPlatform({ env, imports: [RedisModule] });
  return { platform, service: platform.get(RedisService) };
}

function writeLua(name: string, lua: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lua-')), name);
  writeFileSync(file, lua);
  return file;
}

describe('RedisService against a real redis-server', () => {
  let redis: RedisServer;
  let platform: PlatformInstance;
  let service: RedisService;

  beforeAll(async () => {
    redis = await RedisServer.start();
    ({ platform, service } = await serviceFor({ REDIS_URL: redis.url, KEY_PREFIX: 'tenant1:' }));
    expect(await service.whenReady(5000)).toBe(true);
  });

  afterAll(async () => {
    await platform?.close();
    await redis?.dispose();
  });

  it('applies KEY_PREFIX to every key a command touches', async () => {
    await service.client.set('greeting', 'hello');
    const raw = redis.client();
    expect(await raw.get('tenant1:greeting')).toBe('hello');
    expect(await raw.exists('greeting')).toBe(0);
    raw.disconnect();
  });

  it('runs Lua scripts from .lua files by SHA, with the prefix applied to their keys', async () => {
    const file = writeLua('incr-by.lua', "return redis.call('INCRBY', KEYS[1], ARGV[1])");
    const script = service.script<number>(file, 1);
    expect(await script.run(['counter'], [5])).toBe(5);
    expect(await script.run(['counter'], [2])).toBe(7);
    const raw = redis.client();
    expect(await raw.get('tenant1:counter')).toBe('7');
    const sha = (await raw.script(
      'LOAD',
      "return redis.call('INCRBY', KEYS[1], ARGV[1])",
    )) as string;
    // The script is cached on the server, so calls go by SHA.
    expect(await raw.script('EXISTS', sha)).toEqual([1]);
    // After a SCRIPT FLUSH the next call reloads it transparently.
    await raw.script('FLUSH');
    expect(await script.run(['counter'], [1])).toBe(8);
    raw.disconnect();
  });

  it('scans with the prefix applied to the pattern and removed from the keys it yields', async () => {
    const raw = redis.client();
    await raw.mset(
      'tenant1:scan:a',
      '1',
      'tenant1:scan:b',
      '2',
      'tenant2:scan:c',
      '3',
      'scan:d',
      '4',
    );
    const seen: string[] = [];
    for await (const batch of service.scan('scan:*', 1)) seen.push(...batch);
    expect(seen.sort()).toEqual(['scan:a', 'scan:b']);
    raw.disconnect();
  });

  it('prefixes pub/sub channel names', () => {
    expect(service.channel('cache:invalidate')).toBe('tenant1:cache:invalidate');
  });

  it('counts the subscribers of a channel', async () => {
    const channel = service.channel('count-me');
    expect(await service.subscriberCount(channel)).toBe(0);
    const listeners = [redis.client(), redis.client()];
    await Promise.all(listeners.map((listener) => listener.subscribe(channel)));
    expect(await service.subscriberCount(channel)).toBe(2);
    listeners.forEach((listener) => listener.disconnect());
  });

  it('fails every command Redis does not answer within the bound with "Command timed out", and goes on once it answers', async () => {
    process.kill(redis.pid!, 'SIGSTOP');
    let outcomes: { outcome: string; ms: number }[];
    try {
      const script = service.script<number>(writeLua('echo.lua', 'return ARGV[1]'), 0);
      outcomes = await Promise.all([
        outcomeOf(service.client.get('greeting')),
        outcomeOf(script.run([], ['hello'])),
        // A pipeline resolves with each command's error in its place.
        outcomeOf(
          service.client
            .pipeline()
            .set('a', '1')
            .get('a')
            .exec()
            .then((replies) => {
              const errors = (replies ?? []).map(([error]) => error?.message);
              if (errors.length === 2 && errors[0] && errors[0] === errors[1]) {
                throw new Error(errors[0]);
              }
            }),
        ),
        // Sent later than the others: failed from its own sending, not with theirs.
        sleep(COMMAND_TIMEOUT_MS / 2).then(() => outcomeOf(service.client.get('later'))),
      ]);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    for (const outcome of outcomes) expectTimedOut(outcome);
    // The late answers are read and dropped: the connection answers what it is asked next.
    expect(await service.client.set('after-freeze', 'yes')).toBe('OK');
    expect(await service.client.get('after-freeze')).toBe('yes');
  });

  it('fails commands at once while Redis is down, and recovers by itself when it returns', async () => {
    await redis.stop();
    await waitFor('the connection to notice', () => service.client.status !== 'ready');
    const started = Date.now();
    await expect(service.client.get('greeting')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await service.ping(200)).toBe(false);

    await redis.restart();
    await waitFor('the connection to come back', () => service.ping(200), 10_000);
    await service.client.set('after', 'restart');
    expect(await service.client.get('after')).toBe('restart');
  });
});

describe('RedisService on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let platform: PlatformInstance;
  let service: RedisService;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
  });

  afterAll(async () => {
    await platform?.close();
    await cluster?.dispose();
  });

  it('is ready only once every master can take commands, so a burst at start-up reaches every slot', async () => {
    ({ platform, service } = await serviceFor(cluster.env));
    expect(await service.whenReady(5000)).toBe(true);
    const masters = (service.client as Cluster).nodes('master');
    expect(masters.map((node) => node.status)).toEqual(masters.map(() => 'ready'));
    const keys = Array.from({ length: 200 }, (_, i) => `burst:${i}`);
    await Promise.all(keys.map((key) => service.client.set(key, '1')));
    expect(await Promise.all(keys.map((key) => service.client.get(key)))).toEqual(
      keys.map(() => '1'),
    );
  });

  it('answers a ping only while every master does, whichever node a command would reach', async () => {
    expect(await service.ping(1000)).toBe(true);
    const frozen = await cluster.masterOf('any-key');
    process.kill(frozen.pid!, 'SIGSTOP');
    try {
      const pings = await Promise.all(Array.from({ length: 10 }, () => service.ping(300)));
      expect(pings).toEqual(pings.map(() => false));
    } finally {
      process.kill(frozen.pid!, 'SIGCONT');
    }
    await waitFor('the ping to answer again', () => service.ping(1000));
  });

  it('fails a command to a frozen master with "Command timed out" within the bound', async () => {
    const frozen = await cluster.masterOf(`${service.keyPrefix}frozen-key`);
    process.kill(frozen.pid!, 'SIGSTOP');
    let outcome: { outcome: string; ms: number };
    try {
      outcome = await outcomeOf(service.client.get('frozen-key'));
    } finally {
      process.kill(frozen.pid!, 'SIGCONT');
    }
    expectTimedOut(outcome);
    await waitFor('the master to answer again', () => service.ping(1000));
    expect(await service.client.set('frozen-key', 'thawed')).toBe('OK');
  });
});
