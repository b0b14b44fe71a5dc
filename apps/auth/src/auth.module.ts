import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@lattice/config';
import { DocsModule, PlatformModule } from '@lattice/http';
import { AccountsModule } from './accounts/accounts.module';
import { UsersAdminModule } from './admin/users-admin.module';
import { AUTH_DOCUMENT } from './auth.openapi';
import { MFA_RATE_LIMITS } from './mfa/mfa.service';
import { PasswordResetModule } from './password-reset/password-reset.module';
import { passwordResetRateLimits } from './password-reset/password-reset.service';
import { VerificationModule } from './verification/verification.module';
import { VERIFICATION_RATE_LIMITS } from './verification/verification.service';

/**
 * The auth app: PlatformModule (with the app's rate-limit policies), its
 * OpenAPI document, and its feature modules — accounts and sessions,
 * verification challenges, administration of users, password reset — each
 * registering its own controllers.
 */
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
        AccountsModule,
        VerificationModule,
        UsersAdminModule,
        PasswordResetModule,
      ],
    };
  }
}
