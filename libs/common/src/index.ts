export { LatticeError } from './lattice.error';
export { ValidationFailedError, UnavailableError } from './http.errors';
export type { ValidationIssue } from './http.errors';
export { UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError } from './auth.errors';
export { Public, PUBLIC_ROUTE } from './public.decorator';
