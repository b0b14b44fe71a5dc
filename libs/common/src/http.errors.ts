import { LatticeError } from './lattice.error';

export interface ValidationIssue {
  path: string;
  message: string;
}

export class ValidationFailedError extends LatticeError {
  constructor(message: string, details: ValidationIssue[] = []) {
    super('VALIDATION_FAILED', message, 400, details);
  }
}

export class UnavailableError extends LatticeError {
  constructor(message = 'A dependency is unavailable; try again shortly') {
    super('UNAVAILABLE', message, 503);
  }
}
