export { SessionModule } from './session.module';
export { SessionService } from './session.service';
export { AuthGuard } from './auth.guard';
export { SESSION_CACHE_TTL_MS } from './session.cache';
export { touchIntervalMs } from './session.store';
export { Roles, CurrentUser, CurrentSession } from './session.decorators';
export { Public } from '@lattice/common';
export { isForbiddenCrossOrigin } from './origin-check';
export { setSessionCookie, clearSessionCookie, SESSION_COOKIE } from './session-cookie';
export { parseSessionId } from './session-token';
/** Revoked session ids are published here (comma-separated), under KEY_PREFIX. */
export { REVOKED_CHANNEL } from './session-keys';
export type { SessionUser, SessionRecord, SessionMeta, AuthenticatedVia } from './session.types';
