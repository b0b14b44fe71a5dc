import type { Socket } from 'socket.io';
import { ValidationFailedError } from '@lattice/common';
import { roomOf } from '@lattice/presence';

/** The namespace draw pages connect to: anonymous and read-only. */
export const DRAWS_NAMESPACE = '/draws';

/** A draw id as the gateway's prize-draw API takes it (CONTRACT 4.3). */
const DRAW_ID = /^[a-z0-9_-]{1,64}$/;

/**
 * The room of a draw's watchers: the room of the presence channel
 * `draw:<id>`, which is where the gateway's PresencePublisher sends the
 * draw's events (on this namespace).
 */
export const drawRoom = (id: string): string => roomOf(`draw:${id}`);

/**
 * The one draw a connection watches, named in its handshake as
 * `auth: { draw }` (or the query parameter `draw`); VALIDATION_FAILED when
 * it is missing or not a draw id.
 */
export function subscribedDraw(handshake: Socket['handshake']): string {
  const auth = handshake.auth as { draw?: unknown } | undefined;
  const query = handshake.query as Record<string, unknown> | undefined;
  const draw = auth?.draw ?? query?.draw;
  if (typeof draw !== 'string' || !DRAW_ID.test(draw)) {
    throw new ValidationFailedError(
      'Name the draw to watch as auth: { draw: "<id>" }, 1 to 64 characters of a-z 0-9 _ -',
    );
  }
  return draw;
}
