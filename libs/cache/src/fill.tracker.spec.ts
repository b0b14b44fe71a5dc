import { FillTracker } from './fill.tracker';

describe('FillTracker', () => {
  it('lets nothing fill L1 before the feed is trusted', () => {
    const tracker = new FillTracker();
    const fill = tracker.begin('k');
    tracker.trust();
    expect(tracker.settle(fill)).toBe(false);
    expect(tracker.settle(tracker.begin('k'))).toBe(true);
  });

  it('refuses a fill whose key was invalidated in flight, but not others', () => {
    const tracker = new FillTracker();
    tracker.trust();
    const a = tracker.begin('a');
    const b = tracker.begin('b');
    tracker.invalidateKey('a');
    expect(tracker.settle(a)).toBe(false);
    expect(tracker.settle(b)).toBe(true);
  });

  it('refuses fills matching an invalidated pattern', () => {
    const tracker = new FillTracker();
    tracker.trust();
    const a = tracker.begin('user:1');
    const b = tracker.begin('route:1');
    tracker.invalidateMatching(/^user:.*$/);
    expect(tracker.settle(a)).toBe(false);
    expect(tracker.settle(b)).toBe(true);
  });

  it('refuses everything in flight when the feed is lost, even once regained', () => {
    const tracker = new FillTracker();
    tracker.trust();
    const before = tracker.begin('k');
    tracker.distrust();
    tracker.trust();
    expect(tracker.settle(before)).toBe(false);
    expect(tracker.settle(tracker.begin('k'))).toBe(true);
  });

  it('accepts a dirty result that carries the version of the latest change', () => {
    const tracker = new FillTracker();
    tracker.trust();
    const [older, exact, deleted] = [tracker.begin('k'), tracker.begin('k'), tracker.begin('k')];
    tracker.invalidateKey('k', 'v1');
    tracker.invalidateKey('k', 'v2');
    expect(tracker.settle(older, 'v1')).toBe(false);
    expect(tracker.settle(exact, 'v2')).toBe(true);
    expect(tracker.isCurrent(tracker.begin('k'))).toBe(true);
    tracker.invalidateKey('k');
    expect(tracker.settle(deleted, 'v2')).toBe(false);
  });

  it('spares the operation that made the change', () => {
    const tracker = new FillTracker();
    tracker.trust();
    const write = tracker.begin('k');
    const read = tracker.begin('k');
    tracker.invalidateKey('k', undefined, write);
    expect(tracker.settle(read)).toBe(false);
    expect(tracker.settle(write)).toBe(true);
    expect(tracker.settle(write)).toBe(false);
  });
});
