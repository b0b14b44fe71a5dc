import { Injectable } from '@nestjs/common';
import { LockService } from '@lattice/lock';
import { loginLockResource } from './account-keys';
import { AccountsRepository } from './accounts.repository';
import { InvalidCredentialsError, LoginTakenError } from './accounts.errors';
import type { UserProfile } from './account.types';
import { PasswordHasher } from './password.hasher';

/** How long the login lock is held at most while one account is written. */
const REGISTRATION_LOCK_TTL_MS = 5_000;

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly hasher: PasswordHasher,
    private readonly locks: LockService,
  ) {}

  /**
   * Creates an account as Redis in Action's create_user does: under a lock on
   * the lower-cased login, check the login is free, take an id from INCR, write
   * the profile. The lock keeps concurrent registrations of one login (on any
   * instance, in any case) from both writing; the final HSETNX keeps a login
   * from ever mapping to two ids even if the lock was lost.
   */
  async register(input: {
    login: string;
    name: string;
    password: string;
    roles?: string[];
  }): Promise<UserProfile> {
    const lowerCased = input.login.toLowerCase();
    if (await this.accounts.idForLogin(lowerCased)) throw new LoginTakenError();
    // Hashing takes tens of milliseconds: done before the lock, not while holding it.
    const passwordHash = await this.hasher.hash(input.password);
    return this.locks.using([loginLockResource(lowerCased)], REGISTRATION_LOCK_TTL_MS, async () => {
      if (await this.accounts.idForLogin(lowerCased)) throw new LoginTakenError();
      const created = await this.accounts.create({ ...input, passwordHash });
      if (!created) throw new LoginTakenError();
      return created;
    });
  }

  /** The same error, after the same work, for an unknown login and a wrong password. */
  async verifyCredentials(login: string, password: string): Promise<UserProfile> {
    const id = await this.accounts.idForLogin(login.toLowerCase());
    const { passwordHash, profile } = await this.accounts.credentials(id);
    const ok = await this.hasher.verify(passwordHash, password);
    if (!ok || !profile) throw new InvalidCredentialsError();
    return profile;
  }

  profile(id: string): Promise<UserProfile | null> {
    return this.accounts.profile(id);
  }

  /** Makes sure an admin account with exactly these credentials exists. */
  async ensureAdmin(login: string, password: string): Promise<UserProfile> {
    const existing = await this.accounts.idForLogin(login.toLowerCase());
    if (!existing) {
      try {
        return await this.register({ login, name: 'Administrator', password, roles: ['admin'] });
      } catch (error) {
        if (!(error instanceof LoginTakenError)) throw error;
      }
    }
    const id = (await this.accounts.idForLogin(login.toLowerCase()))!;
    await this.accounts.setPassword(id, await this.hasher.hash(password));
    await this.accounts.addRole(id, 'admin');
    return (await this.accounts.profile(id))!;
  }
}
