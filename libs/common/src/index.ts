export { LatticeError } from './lattice.error';
export { ValidationFailedError, UnavailableError } from './http.errors';
export type { ValidationIssue } from './http.errors';
export { UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError } from './auth.errors';
export { Public, PUBLIC_ROUTE } from './public.decorator';
export { MAX_JSON_DEPTH, JSON_DEPTH_RULE, jsonTextTooDeep, jsonValueTooDeep } from './json-depth';
export { rerunning } from './rerun';
export { UNSAFE_DISPLAY_CHARACTERS, DISPLAY_TEXT_RULE, isSafeDisplayText } from './display-text';
