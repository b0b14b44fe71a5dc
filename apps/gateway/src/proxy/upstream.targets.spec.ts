import { UpstreamTargets, type TargetLease } from './upstream.targets';

describe('UpstreamTargets', () => {
  const urlOf = (lease: TargetLease | undefined) => lease?.target.url;

  it('takes turns between targets with as many requests outstanding', () => {
    const targets = new UpstreamTargets(['http://a:1', 'http://b:1/', 'http://c:1']);
    const picked = Array.from({ length: 6 }, () => {
      const lease = targets.take()!;
      lease.settle('answered');
      return lease.target.url;
    });
    expect(picked).toEqual([
      'http://a:1',
      'http://b:1',
      'http://c:1',
      'http://a:1',
      'http://b:1',
      'http://c:1',
    ]);
  });

  it('sends to the target with the fewest requests outstanding', () => {
    const targets = new UpstreamTargets(['http://a:1', 'http://b:1']);
    const slow = targets.take()!;
    expect(urlOf(slow)).toBe('http://a:1');
    // While a waits, b takes everything.
    for (let i = 0; i < 3; i++) {
      const lease = targets.take()!;
      expect(urlOf(lease)).toBe('http://b:1');
      lease.settle('answered');
    }
    const held = targets.take()!;
    expect(urlOf(held)).toBe('http://b:1');
    // One each outstanding: a tie, broken by turn.
    expect(urlOf(targets.take())).toBe('http://a:1');
    slow.settle('answered');
    held.settle('answered');
  });

  it('counts a lease once, however often it is settled', () => {
    const targets = new UpstreamTargets(['http://a:1']);
    const lease = targets.take()!;
    lease.settle('answered');
    lease.settle('failed');
    lease.settle('failed');
    expect(lease.target.outstanding).toBe(0);
    expect(lease.target.breaker.inRotation).toBe(true);
  });

  it('takes another target than the one a retry leaves, or none', () => {
    const targets = new UpstreamTargets(['http://a:1', 'http://b:1']);
    const first = targets.take()!;
    expect(urlOf(targets.take(first.target))).toBe('http://b:1');
    const single = new UpstreamTargets(['http://a:1']);
    expect(single.take(single.take()!.target)).toBeUndefined();
  });

  it('skips targets out of rotation, reports each change, and takes none when all are out', () => {
    const changes: string[] = [];
    const targets = new UpstreamTargets(['http://a:1', 'http://b:1'], {
      breaker: { failuresToOpen: 2, coolDownMs: 60_000, maxCoolDownMs: 60_000 },
      onRotation: (url, up) => changes.push(`${url} ${up ? 'in' : 'out'}`),
    });
    expect(changes).toEqual(['http://a:1 in', 'http://b:1 in']);
    const fail = (url: string) => {
      const lease = targets.take()!;
      expect(lease.target.url).toBe(url);
      lease.settle('failed');
    };
    fail('http://a:1');
    fail('http://b:1');
    fail('http://a:1');
    expect(changes.at(-1)).toBe('http://a:1 out');
    // Only b is left.
    fail('http://b:1');
    expect(changes.at(-1)).toBe('http://b:1 out');
    expect(targets.take()).toBeUndefined();
  });

  it('keeps targets in rotation whatever happens when breaking is off', () => {
    const targets = new UpstreamTargets(['http://a:1'], { breaker: false });
    for (let i = 0; i < 20; i++) targets.take()!.settle('failed');
    expect(urlOf(targets.take())).toBe('http://a:1');
  });
});
