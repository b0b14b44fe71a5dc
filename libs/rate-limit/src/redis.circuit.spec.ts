import { RedisCircuit, STARTING } from './redis.circuit';

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('RedisCircuit', () => {
  it('stops calling Redis after a failure, probes in the background, and closes on success', async () => {
    const changes: boolean[] = [];
    let healthy = false;
    let probes = 0;
    const circuit = new RedisCircuit(
      () => {
        probes++;
        return Promise.resolve(healthy);
      },
      500,
      (open) => changes.push(open),
    );
    expect(circuit.allows(0)).toBe(true);
    circuit.open(1000, new Error('down'));
    circuit.open(1001, new Error('still down'));
    expect(changes).toEqual([true]);
    // The first probe goes with the next request...
    expect(circuit.allows(1002)).toBe(false);
    await flush();
    expect(probes).toBe(1);
    expect(circuit.isOpen).toBe(true);
    // ...the next ones no sooner than the interval after a failed one.
    expect(circuit.allows(Date.now() + 100)).toBe(false);
    await flush();
    expect(probes).toBe(1);

    healthy = true;
    expect(circuit.allows(Date.now() + 1000)).toBe(false);
    await flush();
    expect(probes).toBe(2);
    expect(circuit.isOpen).toBe(false);
    expect(circuit.allows(Date.now())).toBe(true);
    expect(changes).toEqual([true, false]);
  });

  it('runs one probe at a time', async () => {
    let resolveProbe: (ok: boolean) => void = () => undefined;
    let probes = 0;
    const circuit = new RedisCircuit(
      () => {
        probes++;
        return new Promise<boolean>((resolve) => (resolveProbe = resolve));
      },
      10,
      () => undefined,
    );
    circuit.open(0, 'down');
    for (let t = 10; t < 1000; t += 10) circuit.allows(t);
    expect(probes).toBe(1);
    resolveProbe(true);
    await flush();
    expect(circuit.isOpen).toBe(false);
  });

  it('can start open, silently while no caller is turned away, and close on the first successful probe', async () => {
    const changes: boolean[] = [];
    const circuit = new RedisCircuit(
      () => Promise.resolve(true),
      500,
      (open) => changes.push(open),
      true,
    );
    expect(circuit.isOpen).toBe(true);
    circuit.probeNow();
    await flush();
    expect(circuit.isOpen).toBe(false);
    expect(changes).toEqual([false]);
    expect(circuit.allows(Date.now())).toBe(true);
  });

  it('reports a start that turns a caller away as it reports an outage, once', async () => {
    const changes: [boolean, unknown][] = [];
    let healthy = false;
    const circuit = new RedisCircuit(
      () => Promise.resolve(healthy),
      500,
      (open, reason) => changes.push([open, reason]),
      true,
    );
    const started = circuit.openedAt;
    expect(started).toEqual(expect.any(Number));
    expect(changes).toEqual([]);
    expect(circuit.allows(Date.now())).toBe(false);
    expect(circuit.allows(Date.now())).toBe(false);
    expect(changes).toEqual([[true, STARTING]]);
    expect(circuit.openedAt).toBe(started);
    await flush();
    healthy = true;
    circuit.probeNow();
    await flush();
    expect(circuit.openedAt).toBeNull();
    // A later outage is reported as before.
    circuit.open(Date.now(), 'down');
    expect(changes.map(([open]) => open)).toEqual([true, false, true]);
    circuit.stop();
  });

  it('keeps probing on its own while open, without requests, until a probe succeeds', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      let healthy = false;
      let probes = 0;
      const circuit = new RedisCircuit(
        () => {
          probes++;
          return Promise.resolve(healthy);
        },
        500,
        () => undefined,
        true,
      );
      circuit.probeNow();
      await flush();
      expect(probes).toBe(1);
      jest.advanceTimersByTime(500);
      await flush();
      expect(probes).toBe(2);
      healthy = true;
      jest.advanceTimersByTime(500);
      await flush();
      expect(probes).toBe(3);
      expect(circuit.isOpen).toBe(false);
      jest.advanceTimersByTime(5000);
      await flush();
      expect(probes).toBe(3);
    } finally {
      jest.useRealTimers();
    }
  });
});
