import { LatticeError } from '@lattice/common';

export class InvalidTokenError extends LatticeError {
  constructor() {
    super('INVALID_TOKEN', 'That token does not confirm this medium', 400);
  }
}
