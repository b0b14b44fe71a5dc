import type { Socket } from 'socket.io';
import { roomOf } from '@lattice/presence';
import { drawRoom, subscribedDraw } from './draw-subscription';

const handshake = (auth: unknown, query: unknown = {}) =>
  ({ auth, query, headers: {} }) as unknown as Socket['handshake'];

describe('draw subscriptions', () => {
  it('take the draw from auth, else from the query', () => {
    expect(subscribedDraw(handshake({ draw: 'spring' }))).toBe('spring');
    expect(subscribedDraw(handshake({}, { draw: 'autumn_2' }))).toBe('autumn_2');
    expect(subscribedDraw(handshake({ draw: 'a' }, { draw: 'b' }))).toBe('a');
  });

  it.each([undefined, '', 'Spring', 'a:b', 'x'.repeat(65), ['a'], 7, { $ne: 1 }])(
    'refuse %j',
    (draw) => {
      expect(() => subscribedDraw(handshake({ draw }))).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    },
  );

  it('are rooms of the presence channel draw:<id>, where the gateway publishes', () => {
    expect(drawRoom('spring')).toBe(roomOf('draw:spring'));
  });
});
