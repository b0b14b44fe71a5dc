import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@lattice/config';
import { DocsModule, PlatformModule } from '@lattice/http';
import { AccountSettingsService } from './accounts/account-settings.service';
import { AccountsRepository } from './accounts/accounts.repository';
import { AccountsService } from './accounts/accounts.service';
import { AdminBootstrap } from './accounts/admin.bootstrap';
import { LoginThrottle } from './accounts/login.throttle';
import { PasswordHasher } from './accounts/password.hasher';
import { UserDirectoryBackfill } from './accounts/user-directory.backfill';
import { UserDirectoryRepository } from './accounts/user-directory.repository';
import { UsersAdminService } from './admin/users-admin.service';
import { AUTH_CONTROLLERS, AUTH_DOCUMENT } from './auth.openapi';
import { MfaRepository } from './mfa/mfa.repository';
import { MFA_RATE_LIMITS, MfaService } from './mfa/mfa.service';
import { PasswordResetRepository } from './password-reset/password-reset.repository';
import {
  passwordResetRateLimits,
  PasswordResetService,
} from './password-reset/password-reset.service';
import { VerificationRepository } from './verification/verification.repository';
import { VERIFICATION_RATE_LIMITS, VerificationService } from './verification/verification.service';

/** Accounts, shared sessions and verification challenges. */
@Module({})
export class AuthModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        PlatformModule.forRoot(config, {
          rateLimitPolicies: [
            ...VERIFICATION_RATE_LIMITS,
            ...MFA_RATE_LIMITS,
            ...passwordResetRateLimits(config),
          ],
        }),
        DocsModule.forRoot(AUTH_DOCUMENT),
      ],
      controllers: AUTH_CONTROLLERS,
      providers: [
        AccountsRepository,
        AccountsService,
        AccountSettingsService,
        PasswordHasher,
        LoginThrottle,
        AdminBootstrap,
        MfaRepository,
        MfaService,
        UserDirectoryRepository,
        UserDirectoryBackfill,
        UsersAdminService,
        PasswordResetRepository,
        PasswordResetService,
        VerificationRepository,
        VerificationService,
      ],
    };
  }
}
