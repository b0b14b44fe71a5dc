import { Global, Module } from '@nestjs/common';
import { AuthGuard } from './auth.guard';
import { RevocationFeed } from './revocation.feed';
import { SessionCache } from './session.cache';
import { SessionHook } from './session.hook';
import { SessionService } from './session.service';
import { SessionStore } from './session.store';

/**
 * Shared sessions for every app: the store, the in-process cache, and the hook
 * that resolves the caller before guards run. The app registers AuthGuard as an
 * APP_GUARD (PlatformModule does), so it controls the order of global guards.
 */
@Global()
@Module({
  providers: [SessionStore, RevocationFeed, SessionCache, SessionService, SessionHook, AuthGuard],
  exports: [SessionService, RevocationFeed, AuthGuard],
})
export class SessionModule {}
