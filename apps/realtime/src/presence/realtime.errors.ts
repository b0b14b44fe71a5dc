import { LatticeError } from '@lattice/common';

/** A connection asked to be in more channels than one connection may be. */
export class TooManyChannelsError extends LatticeError {
  constructor(limit: number) {
    super(
      'TOO_MANY_CHANNELS',
      `A connection may be in at most ${limit} channels; leave one first`,
      400,
    );
  }
}

/** The realtime instance is shutting down or its Redis bus is unreachable. */
export class RealtimeUnavailableError extends LatticeError {
  constructor(message = 'Realtime delivery is unavailable right now; try again shortly') {
    super('UNAVAILABLE', message, 503);
  }
}
