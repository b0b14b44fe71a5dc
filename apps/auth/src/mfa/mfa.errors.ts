import { LatticeError } from '@lattice/common';

/** A TOTP or recovery code that is wrong, expired or used already. */
export class InvalidCodeError extends LatticeError {
  constructor() {
    super('INVALID_CODE', 'Wrong or already used code', 401);
  }
}

/** A login challenge that is unknown, expired, used or out of attempts. */
export class ChallengeExpiredError extends LatticeError {
  constructor() {
    super(
      'MFA_CHALLENGE_EXPIRED',
      'This sign-in step expired; sign in with the password again',
      401,
    );
  }
}

export class MfaAlreadyActiveError extends LatticeError {
  constructor() {
    super('CONFLICT', 'A second factor is active already; disable it first', 409);
  }
}

export class NoEnrolmentError extends LatticeError {
  constructor() {
    super('NOT_FOUND', 'No enrolment under way; start one with POST /auth/mfa/totp', 404);
  }
}

export class MfaNotActiveError extends LatticeError {
  constructor() {
    super('NOT_FOUND', 'No second factor is active', 404);
  }
}

/** DELETE /auth/me of an account with a second factor, without a code. */
export class CodeRequiredError extends LatticeError {
  constructor() {
    super('INVALID_CODE', 'This account has a second factor: give a code as well', 401);
  }
}
