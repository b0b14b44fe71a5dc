import { LatticeError } from '@lattice/common';

export class LoginTakenError extends LatticeError {
  constructor() {
    super('CONFLICT', 'That login is taken', 409);
  }
}

export class InvalidCredentialsError extends LatticeError {
  constructor() {
    super('INVALID_CREDENTIALS', 'Wrong login or password', 401);
  }
}

/** The signed-in user's own password, given again to confirm a change, was wrong. */
export class WrongPasswordError extends LatticeError {
  constructor() {
    super('INVALID_CREDENTIALS', 'Wrong password', 401);
  }
}
