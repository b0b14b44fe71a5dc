import { withDeadline } from './deadline';
import { DeadlineExceededError } from './rate-limit.errors';

const later = <T>(ms: number, value: T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('withDeadline', () => {
  it('passes on what settles in time', async () => {
    await expect(withDeadline(later(5, 'ok'), 200)).resolves.toBe('ok');
    await expect(withDeadline(Promise.reject(new Error('boom')), 200)).rejects.toThrow('boom');
  });

  it('gives up once the deadline passes, without waiting for the call', async () => {
    const started = Date.now();
    await expect(withDeadline(new Promise<never>(() => undefined), 30)).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not blame the call for a busy event loop when its answer is already in', async () => {
    const call = new Promise<string>((resolve) => setTimeout(() => resolve('ok'), 20));
    const guarded = withDeadline(call, 20);
    // Both timers fall due in the same loop turn; the answer must win.
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // Busy: keeps the loop from turning.
    }
    await expect(guarded).resolves.toBe('ok');
  });
});
