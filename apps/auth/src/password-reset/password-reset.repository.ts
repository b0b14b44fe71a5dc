import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, type RedisScript } from '@lattice/redis';
import { AccountKeys } from '../accounts/account.keys';

/**
 * Reset tokens in Redis: the hash of the one outstanding token of an
 * account, in the account's own slot (account.keys.ts), with a TTL.
 */
@Injectable()
export class PasswordResetRepository {
  private readonly issueScript: RedisScript<number>;
  private readonly consumeScript: RedisScript<number>;

  constructor(private readonly redis: RedisService) {
    this.issueScript = redis.script(join(__dirname, 'password-reset-issue.lua'), 2);
    this.consumeScript = redis.script(join(__dirname, 'password-reset-consume.lua'), 3);
  }

  private keys(id: string): AccountKeys {
    return new AccountKeys(id, this.redis);
  }

  /** Stores the token's hash for the account of `generation`; false when the id no longer holds it. */
  async issue(id: string, generation: string, secretHash: string, ttlMs: number): Promise<boolean> {
    const keys = this.keys(id);
    return (
      (await this.issueScript.run(
        [keys.profile, keys.passwordReset],
        [generation, secretHash, ttlMs],
      )) === 1
    );
  }

  /** The stored hash of the account's outstanding token, or null. */
  async storedHash(id: string): Promise<string | null> {
    return this.redis.client.hget(this.keys(id).passwordReset, 'hash');
  }

  /** Uses the token (see password-reset-consume.lua); false when it is not (or no longer) there. */
  async consume(id: string, secretHash: string, passwordHash: string): Promise<boolean> {
    const keys = this.keys(id);
    return (
      (await this.consumeScript.run(
        [keys.profile, keys.password, keys.passwordReset],
        [secretHash, passwordHash],
      )) === 1
    );
  }
}
