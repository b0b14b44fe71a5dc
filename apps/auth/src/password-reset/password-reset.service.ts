import { Injectable } from '@nestjs/common';
import { NotFoundError } from '@lattice/common';
import type { Config } from '@lattice/config';
import type { RateLimitPolicy } from '@lattice/rate-limit';
import { SessionService } from '@lattice/session';
import { AccountsRepository } from '../accounts/accounts.repository';
import { PasswordHasher } from '../accounts/password.hasher';
import { InvalidResetTokenError } from './password-reset.errors';
import { PasswordResetRepository } from './password-reset.repository';
import {
  hashResetSecret,
  newResetToken,
  parseResetToken,
  resetHashesMatch,
} from './password-reset-token';

/** How long an admin-issued reset token works. */
export const PASSWORD_RESET_TTL_MS = 15 * 60 * 1000;

/**
 * Attempts to use a reset token, per client address: the login policy's
 * numbers (RATE_LIMIT_LOGIN) under a name of its own, so that guessing
 * tokens and guessing passwords each cost their own budget.
 */
export const passwordResetRateLimits = (config: Config): RateLimitPolicy[] => [
  {
    name: 'password-reset',
    key: 'ip',
    limit: config.rateLimit.login.limit,
    window: config.rateLimit.login.windowSeconds,
  },
];

/** Admin-issued, single-use password reset tokens (CONTRACT 8.2). */
@Injectable()
export class PasswordResetService {
  constructor(
    private readonly resets: PasswordResetRepository,
    private readonly accounts: AccountsRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
  ) {}

  /**
   * A new token for the user, replacing any earlier one; only its hash is
   * stored, so this answer is the only place it ever appears.
   */
  async issue(userId: string): Promise<{ token: string; expiresAt: string }> {
    const account = await this.accounts.account(userId);
    if (!account) throw new NotFoundError('No such user');
    const { token, secretHash } = newResetToken(userId);
    const expiresAt = new Date(Date.now() + PASSWORD_RESET_TTL_MS).toISOString();
    if (!(await this.resets.issue(userId, account.generation, secretHash, PASSWORD_RESET_TTL_MS))) {
      throw new NotFoundError('No such user');
    }
    return { token, expiresAt };
  }

  /**
   * Sets the new password (Argon2id) and uses the token up, in one script,
   * then ends every session of the user on every instance before returning.
   * The token is checked before the slow hash, and again, atomically, when used.
   */
  async reset(token: string, newPassword: string): Promise<void> {
    const parsed = parseResetToken(token);
    if (!parsed) throw new InvalidResetTokenError();
    const presented = hashResetSecret(parsed.secret);
    const stored = await this.resets.storedHash(parsed.userId);
    if (!stored || !resetHashesMatch(stored, presented)) throw new InvalidResetTokenError();
    const passwordHash = await this.hasher.hash(newPassword);
    if (!(await this.resets.consume(parsed.userId, presented, passwordHash))) {
      throw new InvalidResetTokenError();
    }
    await this.sessions.revokeAll(parsed.userId);
  }
}
