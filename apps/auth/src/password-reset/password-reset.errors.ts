import { LatticeError } from '@lattice/common';

/** One answer for a reset token that is malformed, unknown, used, replaced or expired. */
export class InvalidResetTokenError extends LatticeError {
  constructor() {
    super('INVALID_TOKEN', 'This reset token is not valid (unknown, used or expired)', 400);
  }
}
