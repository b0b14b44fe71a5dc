import { PerClientCounter } from './per-client.counter';

describe('PerClientCounter', () => {
  it('lets each client take up to the cap, and again as it gives back', () => {
    const counter = new PerClientCounter(2);
    expect([counter.tryTake('a'), counter.tryTake('a'), counter.tryTake('a')]).toEqual([
      true,
      true,
      false,
    ]);
    // Another client has a cap of its own.
    expect(counter.tryTake('b')).toBe(true);
    counter.release('a');
    expect(counter.tryTake('a')).toBe(true);
    expect(counter.tryTake('a')).toBe(false);
  });

  it('forgets a client that holds nothing, and ignores releases it does not owe', () => {
    const counter = new PerClientCounter(1);
    counter.release('a');
    expect(counter.tryTake('a')).toBe(true);
    counter.release('a');
    counter.release('a');
    expect(counter.tryTake('a')).toBe(true);
    expect(counter.tryTake('a')).toBe(false);
  });
});
