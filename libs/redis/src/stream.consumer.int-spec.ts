import { RedisServer, startPlatform, waitFor, type PlatformInstance } from '@lattice/testing';
import { LatticeError } from '@lattice/common';
import type Redis from 'ioredis';
import { RedisModule } from './redis.module';
import { RedisService } from './redis.service';
import {
  StreamConsumer,
  streamField,
  type StreamConsumerOptions,
  type StreamEntry,
} from './stream.consumer';
import { StreamEntryRejectedError } from './stream.errors';

const SETTINGS = {
  batch: 16,
  blockMs: 100,
  claimIdleMs: 400,
  maxDeliveries: 3,
  streamMaxLen: 1000,
  deadMaxLen: 100,
  forgetConsumerAfterMs: 60_000,
  housekeepingMs: 60_000,
};

type Handler = (entry: StreamEntry) => Promise<void>;

describe('StreamConsumer against a real redis-server', () => {
  let redis: RedisServer;
  let raw: Redis;
  const platforms: PlatformInstance[] = [];
  const consumers: StreamConsumer[] = [];
  let round = 0;
  let stream: string;
  let dead: string;

  /** A consumer on an app instance of its own (RedisModule built by Nest). */
  async function consumer(
    handle: Handler,
    extra: Partial<StreamConsumerOptions> = {},
  ): Promise<StreamConsumer> {
    const platform = await startPlatform({
      env: { REDIS_URL: redis.url, KEY_PREFIX: 'app:' },
      imports: [RedisModule],
    });
    platforms.push(platform);
    const started = new StreamConsumer(platform.get(RedisService), {
      ...SETTINGS,
      purpose: 'test',
      entries: 'test entries',
      stream,
      deadStream: dead,
      group: 'workers',
      handle,
      ...extra,
    });
    started.start();
    consumers.push(started);
    return started;
  }

  const add = (value: string) => raw.xadd(`app:${stream}`, '*', 'value', value);
  const pending = async () =>
    ((await raw.xpending(`app:${stream}`, 'workers', '-', '+', 100)) as unknown[]).length;
  const deadLetters = async () =>
    (await raw.xrange(`app:${dead}`, '-', '+')).map(([, fields]) => fields);

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = redis.client();
  });

  beforeEach(() => {
    round += 1;
    stream = `jobs${round}`;
    dead = `jobs${round}:dead`;
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((each) => each.stop()));
    await Promise.all(platforms.splice(0).map((platform) => platform.close()));
  });

  afterAll(async () => {
    raw?.disconnect();
    await redis?.dispose();
  });

  it('hands each entry to one consumer of the group, once, and acknowledges it', async () => {
    const seen: [string, string][] = [];
    const one = await consumer(async ({ fields }) => {
      seen.push(['one', streamField(fields, 'value')!]);
    });
    const two = await consumer(async ({ fields }) => {
      seen.push(['two', streamField(fields, 'value')!]);
    });
    for (let i = 0; i < 50; i++) await add(String(i));
    await waitFor('every entry handled', () => seen.length === 50);
    expect(seen.map(([, value]) => Number(value)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    await waitFor('every entry acknowledged', async () => (await pending()) === 0);
    expect(one.name).not.toBe(two.name);
    expect(one.name.split(':')[1]).toBe(String(process.pid));
  });

  it('dead-letters a rejected entry at once, with its own fields and why', async () => {
    const buried: string[] = [];
    const worker = await consumer(
      async () => {
        throw new StreamEntryRejectedError('BAD_JOB', 'this job can never run');
      },
      { onDeadLetter: (code) => buried.push(code) },
    );
    const id = await add('poison');
    await waitFor('a dead letter', async () => (await deadLetters()).length === 1);
    const [fields] = await deadLetters();
    expect(fields).toEqual(
      expect.arrayContaining([
        'value',
        'poison',
        'code',
        'BAD_JOB',
        'reason',
        'this job can never run',
      ]),
    );
    expect(streamField(fields, 'id')).toBe(id);
    expect(streamField(fields, 'consumer')).toBe(worker.name);
    expect(streamField(fields, 'deliveries')).toBe('1');
    expect(buried).toEqual(['BAD_JOB']);
    expect(await pending()).toBe(0);
  });

  it('retries a passing failure after claimIdleMs, and buries it after maxDeliveries', async () => {
    const deliveries: number[] = [];
    const claims: number[] = [];
    await consumer(
      async (entry) => {
        deliveries.push(entry.deliveries);
        if (streamField(entry.fields, 'value') === 'flaky' && entry.deliveries === 1) {
          throw new Error('a passing failure');
        }
        if (streamField(entry.fields, 'value') === 'broken') {
          throw new LatticeError('UPSTREAM_DOWN', 'the upstream is down', 503);
        }
      },
      { onClaim: () => claims.push(1) },
    );
    await add('flaky');
    await waitFor('the retry to succeed', () => deliveries.join() === '1,2');
    await waitFor('the flaky entry acknowledged', async () => (await pending()) === 0);
    expect(await deadLetters()).toEqual([]);

    deliveries.length = 0;
    await add('broken');
    await waitFor('the broken entry buried', async () => (await deadLetters()).length === 1);
    expect(deliveries).toEqual([1, 2, 3]);
    const [fields] = await deadLetters();
    expect(streamField(fields, 'code')).toBe('UPSTREAM_DOWN');
    expect(streamField(fields, 'deliveries')).toBe('3');
    expect(claims.length).toBeGreaterThanOrEqual(3);
    expect(await pending()).toBe(0);
  });

  it('takes over the entries of a consumer that died before acknowledging them', async () => {
    let hang: () => void = () => undefined;
    const stuck = await consumer(
      () =>
        new Promise<void>((resolve) => {
          hang = resolve;
        }),
    );
    await add('orphan');
    await waitFor('the entry to be pending on the first consumer', async () => {
      const entries = (await raw.xpending(`app:${stream}`, 'workers', '-', '+', 10)) as [
        string,
        string,
      ][];
      return entries.length === 1 && entries[0][1] === stuck.name;
    });
    // The first consumer is gone for good: it reads no more and never acknowledges.
    platforms[0].get(RedisService).client.disconnect();
    const taken: StreamEntry[] = [];
    const survivor = await consumer(async (entry) => {
      taken.push(entry);
    });
    await waitFor('the entry taken over', () => taken.length === 1);
    expect(streamField(taken[0].fields, 'value')).toBe('orphan');
    expect(taken[0].deliveries).toBe(2);
    await waitFor('the entry acknowledged by the survivor', async () => (await pending()) === 0);
    expect(survivor.name).not.toBe(stuck.name);
    hang();
  });

  it('makes the stream and group again when they go away, and reads on', async () => {
    const values: string[] = [];
    await consumer(async ({ fields }) => {
      values.push(streamField(fields, 'value')!);
    });
    await add('before');
    await waitFor('the first entry', () => values.length === 1);
    await raw.del(`app:${stream}`);
    await waitFor('the group made again', async () => {
      try {
        return ((await raw.xinfo('GROUPS', `app:${stream}`)) as unknown[]).length === 1;
      } catch {
        return false;
      }
    });
    await add('after');
    await waitFor('the entry after the loss', () => values.includes('after'));
    expect(values).toEqual(['before', 'after']);
  });
});
