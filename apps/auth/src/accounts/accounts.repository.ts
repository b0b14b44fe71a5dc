import { Injectable } from '@nestjs/common';
import { RedisService } from '@lattice/redis';
import { LOGINS_KEY, USER_ID_COUNTER_KEY, passwordKey, profileKey, rolesKey } from './account-keys';
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

/**
 * Accounts in Redis. Writes are ordered so that claiming the login in `users:`
 * (HSETNX) is the last step and the one that decides: whatever happens before
 * it, no login ever maps to two ids.
 */
@Injectable()
export class AccountsRepository {
  constructor(private readonly redis: RedisService) {}

  async idForLogin(lowerCasedLogin: string): Promise<string | null> {
    return this.redis.client.hget(LOGINS_KEY, lowerCasedLogin);
  }

  /** Writes a new account's keys and claims its login; null when the login was taken meanwhile. */
  async create(input: {
    login: string;
    name: string;
    passwordHash: string;
    roles?: string[];
  }): Promise<UserProfile | null> {
    const client = this.redis.client;
    const id = String(await client.incr(USER_ID_COUNTER_KEY));
    const signup = Math.floor(Date.now() / 1000);
    // Separate commands, not one MULTI: in Redis Cluster these keys live in different slots.
    await Promise.all([
      client.hset(profileKey(id), {
        login: input.login,
        id,
        name: input.name,
        followers: 0,
        following: 0,
        posts: 0,
        signup,
      }),
      client.set(passwordKey(id), input.passwordHash),
      input.roles?.length ? client.sadd(rolesKey(id), ...input.roles) : Promise.resolve(0),
    ]);
    const claimed = await client.hsetnx(LOGINS_KEY, input.login.toLowerCase(), id);
    if (claimed === 1) return this.profile(id);
    // One DEL per key: on Redis Cluster a multi-key DEL across slots is refused (CROSSSLOT).
    await Promise.all(
      [profileKey(id), passwordKey(id), rolesKey(id)].map((key) => client.del(key)),
    );
    return null;
  }

  async profile(id: string): Promise<UserProfile | null> {
    const [hash, roles] = await Promise.all([
      this.redis.client.hgetall(profileKey(id)),
      this.redis.client.smembers(rolesKey(id)),
    ]);
    return toProfile(id, hash, roles);
  }

  /** What a login needs, fetched the same way whether or not the account exists. */
  async credentials(
    id: string | null,
  ): Promise<{ passwordHash: string | null; profile: UserProfile | null }> {
    const lookup = id ?? '0';
    const [passwordHash, profile] = await Promise.all([
      this.redis.client.get(passwordKey(lookup)),
      this.profile(lookup),
    ]);
    return id ? { passwordHash, profile } : { passwordHash: null, profile: null };
  }

  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.redis.client.set(passwordKey(id), passwordHash);
  }

  async addRole(id: string, role: string): Promise<void> {
    await this.redis.client.sadd(rolesKey(id), role);
  }
}
