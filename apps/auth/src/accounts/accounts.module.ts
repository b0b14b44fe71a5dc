import { Module } from '@nestjs/common';
import { LockModule } from '@lattice/lock';
import { RateLimitModule } from '@lattice/rate-limit';
import { RedisModule } from '@lattice/redis';
import { SessionModule } from '@lattice/session';
import { MfaController } from '../mfa/mfa.controller';
import { MfaRepository } from '../mfa/mfa.repository';
import { MfaService } from '../mfa/mfa.service';
import { VerificationModule } from '../verification/verification.module';
import { AccountSettingsController } from './account-settings.controller';
import { AccountSettingsService } from './account-settings.service';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { AdminBootstrap } from './admin.bootstrap';
import { AdminSessionsController } from './admin-sessions.controller';
import { AuthController } from './auth.controller';
import { LoginThrottle } from './login.throttle';
import { PasswordHasher } from './password.hasher';
import { UserDirectoryBackfill } from './user-directory.backfill';
import { UserDirectoryRepository } from './user-directory.repository';

/**
 * Accounts and their sessions: registration, login (with its second factor:
 * the TOTP routes of mfa/ live here because login asks MfaService and
 * MfaService asks AccountsService, so apart they would import each other),
 * the user's own sessions and settings, an admin's view of another user's
 * sessions, and the admin account of ADMIN_LOGIN. Exports the account store
 * and rules to the features built on accounts (administration, password reset).
 */
@Module({
  imports: [RedisModule, LockModule, SessionModule, RateLimitModule, VerificationModule],
  controllers: [AuthController, AccountSettingsController, AdminSessionsController, MfaController],
  providers: [
    AccountsRepository,
    AccountsService,
    AccountSettingsService,
    PasswordHasher,
    LoginThrottle,
    AdminBootstrap,
    UserDirectoryRepository,
    UserDirectoryBackfill,
    MfaRepository,
    MfaService,
  ],
  exports: [AccountsRepository, AccountsService, PasswordHasher, UserDirectoryRepository],
})
export class AccountsModule {}
