import { LatticeError } from './lattice.error';

export class UnauthenticatedError extends LatticeError {
  constructor(message = 'Sign in to use this route') {
    super('UNAUTHENTICATED', message, 401);
  }
}

export class ForbiddenError extends LatticeError {
  constructor(message = 'You may not do this') {
    super('FORBIDDEN', message, 403);
  }
}

export class NotFoundError extends LatticeError {
  constructor(message = 'Not found') {
    super('NOT_FOUND', message, 404);
  }
}

export class ConflictError extends LatticeError {
  constructor(message: string) {
    super('CONFLICT', message, 409);
  }
}
