import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, type RedisScript } from '@lattice/redis';
import {
  DIRECTORY_ADMINS_KEY,
  DIRECTORY_INDEXED_KEY,
  DIRECTORY_LOGINS_KEY,
  DIRECTORY_SUSPENDED_KEY,
  LOGINS_KEY,
} from './account.keys';

/** What a guarded change of the directory did (directory-guard.lua). */
export type GuardOutcome = 'done' | 'last-admin' | 'not-indexed';

const OUTCOMES: Record<number, GuardOutcome> = { 1: 'done', 0: 'last-admin', [-1]: 'not-indexed' };

/** Logins sort as ASCII: nothing a login may hold sorts after this. */
const AFTER_EVERY_LOGIN = '\xff';

/**
 * The user directory of administration (keys in account.keys.ts): the
 * logins, for listing and prefix search with ZRANGEBYLEX, and the admin and
 * suspended ids, changed by one script that keeps an active admin.
 */
@Injectable()
export class UserDirectoryRepository {
  private readonly guardScript: RedisScript<number>;

  constructor(private readonly redis: RedisService) {
    this.guardScript = redis.script(join(__dirname, 'directory-guard.lua'), 4);
  }

  /** Lists a new account (and, holding the admin role, counts it as an admin). */
  async add(lowerCasedLogin: string, id: string, admin: boolean): Promise<void> {
    const multi = this.redis.client.multi().zadd(DIRECTORY_LOGINS_KEY, 0, lowerCasedLogin);
    if (admin) multi.sadd(DIRECTORY_ADMINS_KEY, id);
    await multi.exec();
  }

  async addAdmin(id: string): Promise<void> {
    await this.redis.client.sadd(DIRECTORY_ADMINS_KEY, id);
  }

  /** Drops the id from the admins, unless it is the last active one. */
  demote(id: string): Promise<GuardOutcome> {
    return this.guard('demote', id);
  }

  /** Marks the id suspended, unless it is the last active admin. */
  suspend(id: string): Promise<GuardOutcome> {
    return this.guard('suspend', id);
  }

  /** Removes every trace of the account, unless it is the last active admin. */
  remove(id: string, lowerCasedLogin: string): Promise<GuardOutcome> {
    return this.guard('remove', id, lowerCasedLogin);
  }

  async reactivate(id: string): Promise<void> {
    await this.redis.client.srem(DIRECTORY_SUSPENDED_KEY, id);
  }

  async isSuspended(id: string): Promise<boolean> {
    return (await this.redis.client.sismember(DIRECTORY_SUSPENDED_KEY, id)) === 1;
  }

  /** For each id, whether it is suspended. */
  async suspended(ids: string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const flags = await this.redis.client.smismember(DIRECTORY_SUSPENDED_KEY, ...ids);
    return flags.map((flag) => flag === 1);
  }

  /**
   * Up to `count` lower-cased logins in order, starting with `prefix`, after
   * `after` when given, with the ids `users:` maps them to (null when the
   * login is no longer mapped).
   */
  async page(
    prefix: string,
    after: string | undefined,
    count: number,
  ): Promise<{ login: string; id: string | null }[]> {
    const min = after !== undefined ? `(${after}` : prefix ? `[${prefix}` : '-';
    const max = prefix ? `[${prefix}${AFTER_EVERY_LOGIN}` : '+';
    const logins = await this.redis.client.zrangebylex(
      DIRECTORY_LOGINS_KEY,
      min,
      max,
      'LIMIT',
      0,
      count,
    );
    if (logins.length === 0) return [];
    const ids = await this.redis.client.hmget(LOGINS_KEY, ...logins);
    return logins.map((login, i) => ({ login, id: ids[i] }));
  }

  /** Drops a login whose account is gone from the list (only that login, only if listed). */
  async forget(lowerCasedLogin: string): Promise<void> {
    await this.redis.client.zrem(DIRECTORY_LOGINS_KEY, lowerCasedLogin);
  }

  async isIndexed(): Promise<boolean> {
    return (await this.redis.client.exists(DIRECTORY_INDEXED_KEY)) === 1;
  }

  async markIndexed(): Promise<void> {
    await this.redis.client.set(DIRECTORY_INDEXED_KEY, '1');
  }

  /** Every (lower-cased login, id) of `users:`, in batches (HSCAN: for the one-time backfill). */
  async *allLogins(): AsyncGenerator<[string, string][]> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.client.hscan(LOGINS_KEY, cursor, 'COUNT', 200);
      cursor = next;
      const batch: [string, string][] = [];
      for (let i = 0; i < flat.length; i += 2) batch.push([flat[i], flat[i + 1]]);
      if (batch.length) yield batch;
    } while (cursor !== '0');
  }

  private async guard(what: string, id: string, login = ''): Promise<GuardOutcome> {
    const outcome = await this.guardScript.run(
      [DIRECTORY_ADMINS_KEY, DIRECTORY_SUSPENDED_KEY, DIRECTORY_INDEXED_KEY, DIRECTORY_LOGINS_KEY],
      [what, id, login],
    );
    return OUTCOMES[outcome];
  }
}
