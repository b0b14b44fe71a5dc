import { Injectable } from '@nestjs/common';
import { UnauthenticatedError } from '@lattice/common';
import { LockService } from '@lattice/lock';
import { SessionService, type SessionRecord } from '@lattice/session';
import { LOGIN_LOCK_TTL_MS, loginLockResource } from './account.keys';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { LastAdminError } from './accounts.errors';
import type { UserProfile } from './account.types';
import { PasswordHasher } from './password.hasher';
import { VerificationRepository } from '../verification/verification.repository';
import { UserDirectoryRepository } from './user-directory.repository';

/** What signed-in users change about their own account: password, name, its existence. */
@Injectable()
export class AccountSettingsService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly repository: AccountsRepository,
    private readonly hasher: PasswordHasher,
    private readonly locks: LockService,
    private readonly sessions: SessionService,
    private readonly directory: UserDirectoryRepository,
    private readonly verifications: VerificationRepository,
  ) {}

  /**
   * Sets a new password (Argon2id) after checking the current one, then ends
   * every other session of the user on every instance before returning; the
   * session of the request is kept.
   */
  async changePassword(
    session: SessionRecord,
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    const { generation } = await this.accounts.accountOfSession(session);
    await this.accounts.verifyPassword(session.userId, currentPassword);
    const passwordHash = await this.hasher.hash(newPassword);
    if (!(await this.repository.setPassword(session.userId, generation, passwordHash))) {
      throw new UnauthenticatedError('This session ended: its account no longer exists');
    }
    await this.sessions.revokeAll(session.userId, session.id);
  }

  /** Changes the display name in `user:<id>` and returns the profile as it now is. */
  async rename(session: SessionRecord, name: string): Promise<UserProfile> {
    const { generation } = await this.accounts.accountOfSession(session);
    if (!(await this.repository.setName(session.userId, generation, name))) {
      throw new UnauthenticatedError('This session ended: its account no longer exists');
    }
    return (await this.accounts.accountOfSession(session)).profile;
  }

  /**
   * Deletes the account after checking its password: under the login lock
   * (so no registration of the same login interleaves), its profile,
   * password, roles, second factor and reset token go in one script (the
   * verification challenges the user owns just before), its login is freed and
   * it leaves the user directory; then every session ends on every instance,
   * which also closes the user's sockets. The last active admin cannot go
   * (409 LAST_ADMIN). A login racing this is caught by
   * AccountsService.confirmLogin. Deleting an account that is already gone
   * (a repeated request) only ends sessions.
   */
  async deleteAccount(
    session: SessionRecord,
    password: string,
    /** Checks the second factor when the account has one; runs after the password is checked. */
    secondFactor: () => Promise<void>,
  ): Promise<void> {
    const account = await this.repository.account(session.userId);
    if (account) {
      if (account.generation !== session.accountGeneration) {
        throw new UnauthenticatedError('This session ended: its account no longer exists');
      }
      try {
        await this.accounts.verifyPassword(session.userId, password);
      } catch (error) {
        // A repeat racing the first deletion finds the password gone: the account is already deleted.
        if (await this.repository.account(session.userId)) throw error;
      }
      await secondFactor();
      const lowerCased = account.profile.login.toLowerCase();
      await this.locks.using([loginLockResource(lowerCased)], LOGIN_LOCK_TTL_MS, async () => {
        if ((await this.directory.remove(session.userId, lowerCased)) === 'last-admin') {
          throw new LastAdminError();
        }
        // Before the account's keys, which hold the index of its challenges.
        await this.verifications.removeOwnedBy(session.userId);
        await this.repository.remove(session.userId, account.generation);
        await this.repository.releaseLogin(lowerCased, session.userId);
      });
    }
    await this.sessions.revokeAll(session.userId);
  }
}
