import { LatticeError } from '@lattice/common';

/** The connection is not in the channel it tried to update or send to. */
export class NotAMemberError extends LatticeError {
  constructor(channel: string) {
    super('NOT_A_MEMBER', `Join channel ${channel} first`, 403);
  }
}

/** Presence could not be read or written because Redis did not answer. */
export class PresenceUnavailableError extends LatticeError {
  constructor() {
    super('UNAVAILABLE', 'Presence is unavailable right now; try again shortly', 503);
  }
}
