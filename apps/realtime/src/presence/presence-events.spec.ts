import { ValidationFailedError } from '@lattice/common';
import { parsePayload } from './presence-ack';
import { joinPayload, messagePayload, updatePayload } from './presence-events';

const nested = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

function refusal(run: () => unknown): ValidationFailedError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationFailedError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('Socket.IO payload nesting', () => {
  it('accepts message data and meta nested up to 32 levels', () => {
    expect(parsePayload(messagePayload, { channel: 'lobby', data: nested(32) })).toBeDefined();
    expect(parsePayload(joinPayload, { channel: 'lobby', meta: { a: nested(31) } })).toBeDefined();
  });

  it.each([33, 5000, 200_000])(
    'refuses data and meta nested %i levels with VALIDATION_FAILED naming the maximum',
    (levels) => {
      const data = refusal(() =>
        parsePayload(messagePayload, { channel: 'lobby', data: nested(levels) }),
      );
      expect(data.details).toEqual([
        { path: 'data', message: expect.stringMatching(/nested at most 32 levels/) },
      ]);
      const meta = refusal(() =>
        parsePayload(updatePayload, { channel: 'lobby', meta: { a: nested(levels) } }),
      );
      expect(meta.details).toEqual([
        { path: 'meta', message: expect.stringMatching(/nested at most 32 levels/) },
      ]);
    },
  );
});
