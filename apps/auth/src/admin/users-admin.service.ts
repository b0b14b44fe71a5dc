import { Injectable } from '@nestjs/common';
import { NotFoundError, UnavailableError, ValidationFailedError } from '@lattice/common';
import { LockService } from '@lattice/lock';
import { SessionService } from '@lattice/session';
import { ADMIN_ROLE, LOGIN_LOCK_TTL_MS, loginLockResource } from '../accounts/account.keys';
import { AccountsRepository, type StoredAccount } from '../accounts/accounts.repository';
import { LastAdminError } from '../accounts/accounts.errors';
import { UserDirectoryRepository, type GuardOutcome } from '../accounts/user-directory.repository';
import type { AdminUserView, UserPage } from './admin.types';

const LOWER_LOGIN = /^[a-z0-9_.-]{3,32}$/;

/** The opaque cursor: the last login of a page, base64url. */
const encodeCursor = (login: string): string => Buffer.from(login).toString('base64url');

function decodeCursor(cursor: string): string {
  const login = Buffer.from(cursor, 'base64url').toString();
  if (!LOWER_LOGIN.test(login)) {
    throw new ValidationFailedError('Invalid query string: cursor is not one this API gave', [
      { path: 'cursor', message: 'must be a nextCursor from an earlier answer' },
    ]);
  }
  return login;
}

/** Throws for a guarded directory change that did not happen. */
function ensureDone(outcome: GuardOutcome): void {
  if (outcome === 'last-admin') throw new LastAdminError();
  if (outcome === 'not-indexed') {
    throw new UnavailableError('The user directory is being built; try again shortly');
  }
}

/**
 * Administration of accounts (admin role only): listing, roles, suspension.
 * Changes to one account run under its login lock, the lock registration and
 * deletion take, so they never interleave with each other or with those;
 * whether an active admin remains is decided by one script over the
 * directory's admin and suspended sets.
 */
@Injectable()
export class UsersAdminService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly directory: UserDirectoryRepository,
    private readonly sessions: SessionService,
    private readonly locks: LockService,
  ) {}

  /** A page of users in order of lower-cased login, those starting with `prefix` only. */
  async list(prefix: string, cursor: string | undefined, limit: number): Promise<UserPage> {
    const lowerPrefix = prefix.toLowerCase();
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    // One more than asked: its presence says there is a next page.
    const entries = await this.directory.page(lowerPrefix, after, limit + 1);
    const more = entries.length > limit;
    const page = entries.slice(0, limit);
    const found = await Promise.all(
      page.map(async ({ login, id }) => {
        const account = id ? await this.accounts.account(id) : null;
        if (account?.profile.login.toLowerCase() === login) return account;
        // Listed, but its account is gone (a deletion that stopped half-way): unlist it.
        await this.directory.forget(login);
        return null;
      }),
    );
    const live = found.filter((account): account is StoredAccount => account !== null);
    const suspended = await this.directory.suspended(live.map((a) => a.profile.id));
    return {
      users: live.map((account, i) => ({ ...account.profile, suspended: suspended[i] })),
      nextCursor: more ? encodeCursor(page[page.length - 1].login) : null,
    };
  }

  async get(userId: string): Promise<AdminUserView> {
    const account = await this.existing(userId);
    return { ...account.profile, suspended: await this.directory.isSuspended(userId) };
  }

  /**
   * Replaces the roles. Dropping `admin` goes through the directory's guard
   * first (409 LAST_ADMIN); gaining it is counted after the roles are
   * written: the admin set never counts an admin the roles do not hold.
   * Every live session of the user carries the new roles on every instance
   * before the answer.
   */
  async setRoles(userId: string, wanted: string[]): Promise<AdminUserView> {
    const roles = [...new Set(wanted)].sort();
    await this.underLock(userId, async (account) => {
      const admin = roles.includes(ADMIN_ROLE);
      if (account.profile.roles.includes(ADMIN_ROLE) && !admin) {
        ensureDone(await this.directory.demote(userId));
      }
      if (!(await this.accounts.setRoles(userId, account.generation, roles))) {
        throw new NotFoundError('No such user');
      }
      if (admin) await this.directory.addAdmin(userId);
      await this.sessions.setRoles(userId, roles);
    });
    return this.get(userId);
  }

  /**
   * Suspends the account (409 LAST_ADMIN for the last active admin), then
   * ends every session of it on every instance, which closes its sockets,
   * before returning. A login racing it is caught by AccountsService.confirmLogin.
   */
  async suspend(userId: string): Promise<void> {
    await this.underLock(userId, async () => {
      ensureDone(await this.directory.suspend(userId));
      await this.sessions.revokeAll(userId);
    });
  }

  async reactivate(userId: string): Promise<void> {
    await this.underLock(userId, () => this.directory.reactivate(userId));
  }

  private async existing(userId: string): Promise<StoredAccount> {
    const account = await this.accounts.account(userId);
    if (!account) throw new NotFoundError('No such user');
    return account;
  }

  /** Runs `work` under the account's login lock, with the account as it is once locked. */
  private async underLock(
    userId: string,
    work: (account: StoredAccount) => Promise<void>,
  ): Promise<void> {
    const login = (await this.existing(userId)).profile.login.toLowerCase();
    await this.locks.using([loginLockResource(login)], LOGIN_LOCK_TTL_MS, async () => {
      const account = await this.accounts.account(userId);
      // Deleted meanwhile (the login may even belong to a new account by now).
      if (account?.profile.login.toLowerCase() !== login) throw new NotFoundError('No such user');
      await work(account);
    });
  }
}
