import { AccountSettingsController } from './accounts/account-settings.controller';
import { AdminSessionsController } from './accounts/admin-sessions.controller';
import { AuthController } from './accounts/auth.controller';
import { MfaController } from './mfa/mfa.controller';
import { UsersAdminController } from './admin/users-admin.controller';
import { PasswordResetController } from './password-reset/password-reset.controller';
import { VerificationController } from './verification/verification.controller';

/**
 * The controllers of the auth app: AuthModule registers exactly these, and the
 * gateway's OpenAPI document describes them (a documentation-only import: the
 * gateway reads their route metadata and never instantiates them).
 */
export const AUTH_CONTROLLERS = [
  AuthController,
  AccountSettingsController,
  AdminSessionsController,
  MfaController,
  UsersAdminController,
  PasswordResetController,
  VerificationController,
];
