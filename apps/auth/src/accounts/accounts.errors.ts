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
