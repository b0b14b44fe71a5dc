import { CircuitBreaker } from './circuit.breaker';

describe('CircuitBreaker', () => {
  let now: number;
  const breaker = () =>
    new CircuitBreaker({ failuresToOpen: 3, coolDownMs: 5_000, maxCoolDownMs: 20_000 }, () => now);
  /** One request through the breaker, with the outcome it reports. */
  const attempt = (b: CircuitBreaker, outcome: 'answered' | 'failed' | 'unknown') => {
    expect(b.admits).toBe(true);
    b.settle(outcome, b.take());
  };

  beforeEach(() => (now = 1_000_000));

  it('takes a target out after three failures in a row, not after failures between answers', () => {
    const b = breaker();
    attempt(b, 'failed');
    attempt(b, 'failed');
    attempt(b, 'answered');
    attempt(b, 'failed');
    attempt(b, 'failed');
    expect(b.inRotation).toBe(true);
    attempt(b, 'failed');
    expect(b.inRotation).toBe(false);
    expect(b.admits).toBe(false);
  });

  it('lets one probe through after the cool-down, and its answer brings the target back', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) attempt(b, 'failed');
    now += 4_999;
    expect(b.admits).toBe(false);
    now += 1;
    expect(b.admits).toBe(true);
    expect(b.take()).toBe(true);
    // One probe at a time: the others stay away while it runs.
    expect(b.admits).toBe(false);
    expect(b.inRotation).toBe(false);
    b.settle('answered', true);
    expect(b.inRotation).toBe(true);
    expect(b.admits).toBe(true);
    // Back to counting from zero.
    attempt(b, 'failed');
    attempt(b, 'failed');
    expect(b.inRotation).toBe(true);
  });

  it('doubles the cool-down after each failed probe, up to the maximum, and resets it on success', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) attempt(b, 'failed');
    const coolDowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      const openedAt = now;
      while (!b.admits) now += 100;
      coolDowns.push(now - openedAt);
      b.settle('failed', b.take());
    }
    expect(coolDowns).toEqual([5_000, 10_000, 20_000, 20_000]);
    while (!b.admits) now += 100;
    b.settle('answered', b.take());
    for (let i = 0; i < 3; i++) attempt(b, 'failed');
    const openedAt = now;
    while (!b.admits) now += 100;
    expect(now - openedAt).toBe(5_000);
  });

  it('lets the next request probe when a probe tells nothing', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) attempt(b, 'failed');
    now += 5_000;
    b.settle('unknown', b.take());
    expect(b.inRotation).toBe(false);
    expect(b.admits).toBe(true);
  });

  it('ignores requests sent before the target left rotation', () => {
    const b = breaker();
    const early = [b.take(), b.take()];
    expect(early).toEqual([false, false]);
    for (let i = 0; i < 3; i++) attempt(b, 'failed');
    b.settle('answered', false);
    b.settle('failed', false);
    expect(b.inRotation).toBe(false);
    now += 5_000;
    expect(b.admits).toBe(true);
  });

  it('never takes a target out on unknown outcomes', () => {
    const b = breaker();
    for (let i = 0; i < 10; i++) attempt(b, 'unknown');
    expect(b.inRotation).toBe(true);
  });
});
