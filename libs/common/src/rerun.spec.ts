import { rerunning } from './rerun';

describe('rerunning', () => {
  it('runs once more for calls made during a run, and every caller sees a run that started after its call', async () => {
    let state = 0;
    let seen = -1;
    let runs = 0;
    const read = rerunning(async () => {
      runs++;
      const now = state;
      await new Promise((resolve) => setImmediate(resolve));
      seen = now;
    });
    const first = read();
    state = 1;
    const second = read();
    const third = read();
    await Promise.all([first, second, third]);
    expect(runs).toBe(2);
    expect(seen).toBe(1);
  });

  it('starts a new run for a call made the moment the previous run ends', async () => {
    let state = 0;
    let seen = -1;
    let lastRun: Promise<void> = Promise.resolve();
    const read = rerunning(() => {
      seen = state;
      lastRun = Promise.resolve();
      return lastRun;
    });
    void read();
    // Called as the run's own promise settles, before anything else runs: a finished run
    // must not be handed out for it.
    const next = await new Promise<Promise<void>>((resolve) =>
      lastRun.then(() => {
        state = 1;
        resolve(read());
      }),
    );
    await next;
    expect(seen).toBe(1);
  });
});
