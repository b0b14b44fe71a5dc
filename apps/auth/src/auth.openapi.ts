import type { ApiDocumentInfo } from '@lattice/http';
import { AccountSettingsController } from './accounts/account-settings.controller';
import { AdminSessionsController } from './accounts/admin-sessions.controller';
import { AuthController } from './accounts/auth.controller';
import { MfaController } from './mfa/mfa.controller';
import { UsersAdminController } from './admin/users-admin.controller';
import { PasswordResetController } from './password-reset/password-reset.controller';
import { VerificationController } from './verification/verification.controller';

/** The controllers of the auth app: its feature modules register exactly these (auth.openapi.spec.ts checks it). */
export const AUTH_CONTROLLERS = [
  AuthController,
  AccountSettingsController,
  AdminSessionsController,
  MfaController,
  UsersAdminController,
  PasswordResetController,
  VerificationController,
];

/**
 * The auth app's own OpenAPI document (its GET /docs/json), which the gateway
 * merges into the platform's: the routes under /auth, reached through the
 * gateway at the same paths.
 */
export const AUTH_DOCUMENT: ApiDocumentInfo = {
  title: 'Lattice auth',
  description:
    "The auth app's routes: accounts, sessions, second factors and verification challenges. Clients reach them through the gateway at the same paths; the gateway's `/docs/json` describes the whole platform.",
  tags: [
    { name: 'accounts', description: 'Accounts and sessions (auth app)' },
    { name: 'admin', description: "Other users' sessions, for admins (auth app)" },
    { name: 'verification', description: 'Verification challenges (auth app)' },
  ],
};
