import { Module } from '@nestjs/common';
import { RedisModule } from '@lattice/redis';
import { AuthGuard } from './auth.guard';
import { RevocationFeed } from './revocation.feed';
import { SessionCache } from './session.cache';
import { SessionHook } from './session.hook';
import { UserProfileReader } from './user-profile.reader';
import { SessionService } from './session.service';
import { SessionStore } from './session.store';

/**
 * Shared sessions for every app: the store, the in-process cache (a provider,
 * so a test can replace it), and the hook that resolves the caller before
 * guards run. The app registers AuthGuard as an APP_GUARD (PlatformModule
 * does), so it controls the order of global guards. A static module: every
 * import shares the app's one session cache.
 */
@Module({
  imports: [RedisModule],
  providers: [
    SessionStore,
    RevocationFeed,
    SessionCache,
    SessionService,
    SessionHook,
    AuthGuard,
    UserProfileReader,
  ],
  exports: [SessionService, RevocationFeed, AuthGuard, UserProfileReader],
})
export class SessionModule {}
