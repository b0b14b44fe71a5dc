import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { UnauthenticatedError, UnavailableError } from '@lattice/common';
import { LockService } from '@lattice/lock';
import { SessionService, type SessionRecord } from '@lattice/session';
import { ADMIN_ROLE, LOGIN_LOCK_TTL_MS, loginLockResource } from './account.keys';
import { AccountsRepository, type StoredAccount } from './accounts.repository';
import {
  AccountSuspendedError,
  InvalidCredentialsError,
  LoginTakenError,
  WrongPasswordError,
} from './accounts.errors';
import type { UserProfile } from './account.types';
import { PasswordHasher } from './password.hasher';
import { UserDirectoryRepository } from './user-directory.repository';

/**
 * Ids tried per registration before giving up with 503. Each refused id
 * moves the counter past every id found, so a second try almost always
 * succeeds; more are needed only while Redis keeps losing data.
 */
const MAX_ID_ATTEMPTS = 10;

/** A new account's generation: 96 random bits, base64url (no `.` or `,`, as the session feed needs). */
function newGeneration(): string {
  return randomBytes(12).toString('base64url');
}

@Injectable()
export class AccountsService {
  private readonly logger = new Logger('Accounts');

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly hasher: PasswordHasher,
    private readonly locks: LockService,
    private readonly sessions: SessionService,
    private readonly directory: UserDirectoryRepository,
  ) {}

  /**
   * Creates an account as Redis in Action's create_user does: under a lock on
   * the lower-cased login, check the login is free, take an id from INCR, write
   * the profile. The lock keeps concurrent registrations of one login (on any
   * instance, in any case) from both writing; the final HSETNX keeps a login
   * from ever mapping to two ids even if the lock was lost. An id is never
   * given twice: see createAccount.
   */
  async register(input: {
    login: string;
    name: string;
    password: string;
    roles?: string[];
  }): Promise<UserProfile> {
    const lowerCased = input.login.toLowerCase();
    if (await this.accountOfLogin(lowerCased)) throw new LoginTakenError();
    // Hashing takes tens of milliseconds: done before the lock, not while holding it.
    const passwordHash = await this.hasher.hash(input.password);
    return this.locks.using([loginLockResource(lowerCased)], LOGIN_LOCK_TTL_MS, async () => {
      const mapped = await this.accounts.idForLogin(lowerCased);
      if (mapped) {
        if (await this.accountOfLogin(lowerCased)) throw new LoginTakenError();
        // The login maps to an id whose account is gone (Redis lost it): free it again.
        await this.accounts.releaseLogin(lowerCased, mapped);
      }
      return this.createAccount({ ...input, passwordHash }, lowerCased);
    });
  }

  /**
   * Takes ids from the counter until one was never given: the account's keys
   * are written only if none of the id's keys exist, and a refused id moves
   * the counter past every id known. Before an id is written, every instance
   * learns the new account's generation, so no session of an earlier account
   * at that id (cached anywhere) answers for the new one.
   */
  private async createAccount(
    input: { login: string; name: string; passwordHash: string; roles?: string[] },
    lowerCased: string,
  ): Promise<UserProfile> {
    for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
      const id = await this.accounts.nextId();
      const generation = newGeneration();
      await this.sessions.announceAccount(id, generation);
      if (!(await this.accounts.create({ ...input, id, generation }))) {
        const counter = await this.accounts.raiseCounterPast(id);
        this.logger.warn(
          `User id ${id} was given before (Redis lost the id counter?): not reused, counter moved to ${counter}`,
        );
        continue;
      }
      if (!(await this.accounts.claimLogin(lowerCased, id))) {
        await this.accounts.remove(id, generation);
        throw new LoginTakenError();
      }
      const created = await this.accounts.account(id);
      if (created?.generation === generation) {
        await this.directory.add(lowerCased, id, created.profile.roles.includes(ADMIN_ROLE));
        return created.profile;
      }
      // Redis lost the account between its two writes: the login must not point at the id.
      await this.accounts.releaseLogin(lowerCased, id);
    }
    throw new UnavailableError('Accounts cannot be created right now; try again shortly');
  }

  /**
   * The same error, after the same work, for an unknown login and a wrong
   * password. A login that maps to an id now holding another account (Redis
   * lost data under it) signs nobody in. Only the right password learns that
   * the account is suspended (403 ACCOUNT_SUSPENDED).
   */
  async verifyCredentials(
    login: string,
    password: string,
  ): Promise<StoredAccount & { passwordHash: string }> {
    const lowerCased = login.toLowerCase();
    const id = await this.accounts.idForLogin(lowerCased);
    const { passwordHash, account } = await this.accounts.credentials(id);
    const ok = await this.hasher.verify(passwordHash, password);
    if (!ok || account?.profile.login.toLowerCase() !== lowerCased) {
      throw new InvalidCredentialsError();
    }
    if (await this.directory.isSuspended(account.profile.id)) throw new AccountSuspendedError();
    return { ...account, passwordHash: passwordHash! };
  }

  /**
   * After a login opened a session with the password hash it verified: ends
   * that session and refuses the login when the account was deleted, its
   * password changed or the account was suspended meanwhile (their own
   * ending of sessions may have run before this session existed). Roles
   * changed meanwhile are written into the user's sessions, this one
   * included. Returns the profile as it now is.
   */
  async confirmLogin(
    account: StoredAccount & { passwordHash: string },
    sessionId: string,
  ): Promise<UserProfile> {
    const { profile, generation, passwordHash } = account;
    const [unchanged, suspended, now] = await Promise.all([
      this.accounts.unchangedSince(profile.id, generation, passwordHash),
      this.directory.isSuspended(profile.id),
      this.accounts.profile(profile.id),
    ]);
    if (!unchanged || suspended || !now) {
      await this.sessions.revoke(sessionId);
      throw unchanged && suspended ? new AccountSuspendedError() : new InvalidCredentialsError();
    }
    if (now.roles.join(',') !== profile.roles.join(',')) {
      await this.sessions.setRoles(profile.id, now.roles);
    }
    return now;
  }

  /** The account a session was opened for; 401 when it is gone or the id holds a newer one. */
  async accountOfSession(session: SessionRecord): Promise<StoredAccount> {
    const account = await this.accounts.account(session.userId);
    if (account?.generation !== session.accountGeneration) {
      throw new UnauthenticatedError('This session ended: its account no longer exists');
    }
    return account;
  }

  /** Checks the password of the signed-in user's account: 401 when wrong. */
  async verifyPassword(userId: string, password: string): Promise<void> {
    const { passwordHash } = await this.accounts.credentials(userId);
    if (!(await this.hasher.verify(passwordHash, password))) throw new WrongPasswordError();
  }

  /** The account of `id` and its password hash (null for none). */
  credentials(id: string): Promise<{ passwordHash: string | null; account: StoredAccount | null }> {
    return this.accounts.credentials(id);
  }

  account(id: string): Promise<StoredAccount | null> {
    return this.accounts.account(id);
  }

  /** The account that owns this lower-cased login, or null (none, or only a stale mapping). */
  async accountOfLogin(lowerCased: string): Promise<StoredAccount | null> {
    const id = await this.accounts.idForLogin(lowerCased);
    const account = id ? await this.accounts.account(id) : null;
    return account?.profile.login.toLowerCase() === lowerCased ? account : null;
  }

  /** Makes sure an admin account with exactly these credentials exists. */
  async ensureAdmin(login: string, password: string): Promise<UserProfile> {
    if (!(await this.accountOfLogin(login.toLowerCase()))) {
      try {
        return await this.register({ login, name: 'Administrator', password, roles: ['admin'] });
      } catch (error) {
        if (!(error instanceof LoginTakenError)) throw error;
      }
    }
    const { profile, generation } = (await this.accountOfLogin(login.toLowerCase()))!;
    // Rewritten only when it differs: a new hash would refuse logins in flight (confirmLogin).
    const { passwordHash } = await this.accounts.credentials(profile.id);
    if (!(await this.hasher.verify(passwordHash, password))) {
      await this.accounts.setPassword(profile.id, generation, await this.hasher.hash(password));
    }
    await this.accounts.addRole(profile.id, ADMIN_ROLE);
    await this.directory.add(login.toLowerCase(), profile.id, true);
    return (await this.accounts.profile(profile.id))!;
  }
}
