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

/** The right password for a suspended account (a wrong one answers INVALID_CREDENTIALS as ever). */
export class AccountSuspendedError extends LatticeError {
  constructor() {
    super('ACCOUNT_SUSPENDED', 'This account is suspended', 403);
  }
}

/** The change would leave no active (not suspended) admin. */
export class LastAdminError extends LatticeError {
  constructor() {
    super('LAST_ADMIN', 'This would leave no active admin', 409);
  }
}
