import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, type RedisScript } from '@lattice/redis';
import {
  ACCOUNT_KEYS_PATTERN,
  AccountKeys,
  LOGINS_KEY,
  USER_ID_COUNTER_KEY,
  userIdOfKey,
} from './account.keys';
import type { UserProfile } from './account.types';

function toProfile(id: string, hash: Record<string, string>, roles: string[]): UserProfile | null {
  if (!hash.login) return null;
  return {
    id,
    login: hash.login,
    name: hash.name ?? '',
    roles: roles.sort(),
    signup: new Date(Number(hash.signup) * 1000).toISOString(),
    followers: Number(hash.followers ?? 0),
    following: Number(hash.following ?? 0),
    posts: Number(hash.posts ?? 0),
  };
}

/** An account as the service needs it: the contract's profile and the account's generation. */
export interface StoredAccount {
  profile: UserProfile;
  /** `gen` of `user:<id>`; empty for an account created before generations existed. */
  generation: string;
}

export interface NewAccount {
  id: string;
  generation: string;
  login: string;
  name: string;
  passwordHash: string;
  roles?: string[];
}

/**
 * Accounts in Redis. An account's own keys are written by one script that
 * refuses an id any key of which exists; the login is claimed afterwards in
 * `users:` (HSETNX), the step that decides who owns a login.
 */
@Injectable()
export class AccountsRepository {
  private readonly createScript: RedisScript<number>;
  private readonly removeScript: RedisScript<number>;
  private readonly releaseLoginScript: RedisScript<number>;
  private readonly raiseCounterScript: RedisScript<number>;
  private readonly setPasswordScript: RedisScript<number>;
  private readonly setNameScript: RedisScript<number>;
  private readonly setRolesScript: RedisScript<number>;

  constructor(private readonly redis: RedisService) {
    const accountKeys = this.keys('0').account.length;
    this.createScript = redis.script(join(__dirname, 'account-create.lua'), accountKeys);
    this.removeScript = redis.script(join(__dirname, 'account-remove.lua'), accountKeys);
    this.releaseLoginScript = redis.script(join(__dirname, 'login-release.lua'), 1);
    this.raiseCounterScript = redis.script(join(__dirname, 'counter-raise.lua'), 1);
    this.setPasswordScript = redis.script(join(__dirname, 'password-set.lua'), 2);
    this.setNameScript = redis.script(join(__dirname, 'profile-name-set.lua'), 1);
    this.setRolesScript = redis.script(join(__dirname, 'roles-set.lua'), 2);
  }

  private keys(id: string): AccountKeys {
    return new AccountKeys(id, this.redis);
  }

  async idForLogin(lowerCasedLogin: string): Promise<string | null> {
    return this.redis.client.hget(LOGINS_KEY, lowerCasedLogin);
  }

  /** The next id from the counter (INCR): a candidate, to be given only if create() takes it. */
  async nextId(): Promise<string> {
    return String(await this.redis.client.incr(USER_ID_COUNTER_KEY));
  }

  /**
   * Writes a new account's keys, in one script that refuses (false) when any
   * key of the id exists: the id was given before. The session index is
   * checked first, apart (another slot on a cluster): sessions are only ever
   * opened for an account that exists, so none can appear meanwhile.
   */
  async create(account: NewAccount): Promise<boolean> {
    const keys = this.keys(account.id);
    if ((await this.redis.client.exists(keys.sessionIndex)) > 0) return false;
    const created = await this.createScript.run(keys.account, [
      account.id,
      account.generation,
      account.login,
      account.name,
      Math.floor(Date.now() / 1000),
      account.passwordHash,
      ...(account.roles ?? []),
    ]);
    return created === 1;
  }

  /** Claims the login for the id; false when it maps to an id already. */
  async claimLogin(lowerCasedLogin: string, id: string): Promise<boolean> {
    return (await this.redis.client.hsetnx(LOGINS_KEY, lowerCasedLogin, id)) === 1;
  }

  /** Frees the login if it still maps to `id`. */
  async releaseLogin(lowerCasedLogin: string, id: string): Promise<void> {
    await this.releaseLoginScript.run([LOGINS_KEY], [lowerCasedLogin, id]);
  }

  /** Removes the account written by create() with this generation, if it is still there. */
  async remove(id: string, generation: string): Promise<void> {
    await this.removeScript.run(this.keys(id).account, [generation]);
  }

  /**
   * After the counter handed out an id that was given before (it was lost or
   * moved back): moves it past the highest id known, from the ids in
   * `users:` and the `user:<id>` keys (SCAN, on this rare path only), and
   * never below `atLeast`.
   */
  async raiseCounterPast(atLeast: string): Promise<number> {
    let highest = Number(atLeast);
    for (const id of await this.redis.client.hvals(LOGINS_KEY)) {
      if (Number(id) > highest) highest = Number(id);
    }
    for await (const keys of this.redis.scan(ACCOUNT_KEYS_PATTERN)) {
      for (const key of keys) highest = Math.max(highest, userIdOfKey(key) ?? 0);
    }
    return this.raiseCounterScript.run([USER_ID_COUNTER_KEY], [highest]);
  }

  async generation(id: string): Promise<string | null> {
    return this.redis.client.hget(this.keys(id).profile, 'gen');
  }

  async profile(id: string): Promise<UserProfile | null> {
    return (await this.account(id))?.profile ?? null;
  }

  async account(id: string): Promise<StoredAccount | null> {
    const keys = this.keys(id);
    const [hash, roles] = await Promise.all([
      this.redis.client.hgetall(keys.profile),
      this.redis.client.smembers(keys.roles),
    ]);
    const profile = toProfile(id, hash, roles);
    return profile ? { profile, generation: hash.gen ?? '' } : null;
  }

  /**
   * Whether the id still holds the account of `generation` with this password
   * hash: read after a session was opened, so that a session opened while the
   * account was deleted or its password changed is caught (see docs/accounts.md).
   */
  async unchangedSince(id: string, generation: string, passwordHash: string): Promise<boolean> {
    const keys = this.keys(id);
    const [gen, current] = await Promise.all([
      this.redis.client.hget(keys.profile, 'gen'),
      this.redis.client.get(keys.password),
    ]);
    return gen === generation && current === passwordHash;
  }

  /** What a login needs, fetched the same way whether or not the account exists. */
  async credentials(
    id: string | null,
  ): Promise<{ passwordHash: string | null; account: StoredAccount | null }> {
    const lookup = id ?? '0';
    const [passwordHash, account] = await Promise.all([
      this.redis.client.get(this.keys(lookup).password),
      this.account(lookup),
    ]);
    return id ? { passwordHash, account } : { passwordHash: null, account: null };
  }

  /** Replaces the password hash of the account of `generation`; false when the id no longer holds it. */
  async setPassword(id: string, generation: string, passwordHash: string): Promise<boolean> {
    const keys = this.keys(id);
    return (
      (await this.setPasswordScript.run(
        [keys.profile, keys.password],
        [generation, passwordHash],
      )) === 1
    );
  }

  /** Renames the account of `generation`; false when the id no longer holds it. */
  async setName(id: string, generation: string, name: string): Promise<boolean> {
    return (await this.setNameScript.run([this.keys(id).profile], [generation, name])) === 1;
  }

  /** Replaces the roles of the account of `generation`; false when the id no longer holds it. */
  async setRoles(id: string, generation: string, roles: string[]): Promise<boolean> {
    const keys = this.keys(id);
    return (
      (await this.setRolesScript.run([keys.profile, keys.roles], [generation, ...roles])) === 1
    );
  }

  async addRole(id: string, role: string): Promise<void> {
    await this.redis.client.sadd(this.keys(id).roles, role);
  }
}
