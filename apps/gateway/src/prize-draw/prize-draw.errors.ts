import { LatticeError } from '@lattice/common';

/** 403 DRAW_CLOSED: the draw exists but takes no more entries. */
export class DrawClosedError extends LatticeError {
  constructor(id: string) {
    super('DRAW_CLOSED', `The draw ${id} is closed and takes no more entries`, 403);
  }
}

/** 409 ALREADY_ENTERED: this GitHub id is already in the draw. */
export class AlreadyEnteredError extends LatticeError {
  constructor(id: string, githubId: string) {
    super('ALREADY_ENTERED', `${githubId} has already entered the draw ${id}`, 409);
  }
}

/** 404 NOT_FOUND: no draw with this id. */
export class DrawNotFoundError extends LatticeError {
  constructor(id: string) {
    super('NOT_FOUND', `There is no draw ${id}`, 404);
  }
}

/** 404 NOT_FOUND: the draw's winners are not picked yet. */
export class WinnersNotPickedError extends LatticeError {
  constructor(id: string) {
    super('NOT_FOUND', `The winners of the draw ${id} have not been picked yet`, 404);
  }
}

/** 404 NOT_FOUND: GitHub says there is no such user. */
export class GithubUserNotFoundError extends LatticeError {
  constructor(githubId: string) {
    super('NOT_FOUND', `There is no GitHub user ${githubId}`, 404);
  }
}

/** 503 UNAVAILABLE: GitHub failed, was too slow, or answered something unusable. */
export class GithubUnavailableError extends LatticeError {
  constructor(reason: string) {
    super(
      'UNAVAILABLE',
      `GitHub profiles cannot be looked up right now (${reason}); try again shortly`,
      503,
    );
  }
}

/** 503 UNAVAILABLE: Redis did not answer; nothing is known to have changed. */
export class DrawsUnavailableError extends LatticeError {
  constructor() {
    super('UNAVAILABLE', 'Prize draws are unavailable right now; try again shortly', 503);
  }
}
