import { BATCH_KEYS, ScriptBatch } from './script.batch';

describe('ScriptBatch', () => {
  /** A script that answers each request with its first argument, recording each call's keys. */
  function echo(batching: boolean) {
    const calls: string[][] = [];
    const batch = new ScriptBatch<string>(async (keys, args) => {
      calls.push(keys);
      return args.map(String);
    }, batching);
    return { calls, batch };
  }

  it('sends a request made while no call is in flight at once, in the same tick', async () => {
    const { calls, batch } = echo(true);
    const first = batch.submit({ keys: ['k1'], args: ['a'] });
    expect(calls).toEqual([['k1']]);
    await first;
    void batch.submit({ keys: ['k2'], args: ['b'] });
    expect(calls).toEqual([['k1'], ['k2']]);
  });

  it('splits the requests made while a call is in flight into calls of at most BATCH_KEYS keys, each caller getting its own reply', async () => {
    const { calls, batch } = echo(true);
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        batch.submit({ keys: [`lease:${i}`, `fence:${i}`], args: [`r${i}`] }),
      ),
    );
    expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
    // The first went alone; the 39 made while it was in flight share calls.
    expect(calls[0]).toEqual(['lease:0', 'fence:0']);
    expect(calls.length).toBe(1 + Math.ceil((39 * 2) / BATCH_KEYS));
    expect(calls.every((keys) => keys.length <= BATCH_KEYS)).toBe(true);
    expect(calls.flat()).toEqual(
      Array.from({ length: 40 }, (_, i) => [`lease:${i}`, `fence:${i}`]).flat(),
    );
  });

  it('sends the call as soon as a request brings it to BATCH_KEYS keys, however large that request', async () => {
    const { calls, batch } = echo(true);
    const big = Array.from({ length: BATCH_KEYS + 4 }, (_, i) => `k${i}`);
    const replies = await Promise.all([
      batch.submit({ keys: ['small'], args: ['a'] }),
      batch.submit({ keys: big, args: ['b'] }),
      batch.submit({ keys: ['after'], args: ['c'] }),
    ]);
    expect(replies).toEqual(['a', 'b', 'c']);
    // 'small' found nothing in flight and went at once; 'big' filled a call by itself.
    expect(calls).toEqual([['small'], big, ['after']]);
  });

  it('without batching (Redis Cluster) sends every request alone', async () => {
    const { calls, batch } = echo(false);
    await Promise.all([1, 2, 3].map((i) => batch.submit({ keys: [`k${i}`], args: [i] })));
    expect(calls).toEqual([['k1'], ['k2'], ['k3']]);
  });

  it('sends a call that carries one request to sendAlone, with or without batching', async () => {
    for (const batching of [true, false]) {
      const batched: string[][] = [];
      const alone: string[][] = [];
      const batch = new ScriptBatch<string>(
        async (keys, args) => {
          batched.push(keys);
          return args.map(String);
        },
        batching,
        async (request) => {
          alone.push([...request.keys]);
          return `alone ${request.args[0]}`;
        },
      );
      expect(await batch.submit({ keys: ['k1'], args: ['a'] })).toBe('alone a');
      expect(alone).toEqual([['k1']]);
      expect(batched).toEqual([]);
    }
  });

  it('still batches the requests of one tick when sendAlone is given', async () => {
    const calls: string[][] = [];
    const batch = new ScriptBatch<string>(
      async (keys, args) => {
        calls.push(keys);
        return args.map(String);
      },
      true,
      async () => 'alone',
    );
    const replies = await Promise.all([
      batch.submit({ keys: ['k1'], args: ['a'] }),
      batch.submit({ keys: ['k2'], args: ['b'] }),
      batch.submit({ keys: ['k3'], args: ['c'] }),
    ]);
    expect(replies).toEqual(['alone', 'b', 'c']);
    expect(calls).toEqual([['k2', 'k3']]);
  });
});
