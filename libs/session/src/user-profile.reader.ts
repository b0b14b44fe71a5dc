/* eslint-disable no-restricted-syntax -- this file is the profile's one reader outside auth */
import { Injectable } from '@nestjs/common';
import { RedisService } from '@lattice/redis';
import { accountKey } from './session-keys';

/**
 * The one way other apps read the user profile that auth owns (the hash
 * `user:<id>`, CONTRACT 7): only what they may show, never the key itself.
 */
@Injectable()
export class UserProfileReader {
  constructor(private readonly redis: RedisService) {}

  /**
   * The profile's display `name`, else `fallback` (the login): also when the
   * profile cannot be read, so showing a user never fails on it.
   */
  async displayName(userId: string, fallback: string): Promise<string> {
    try {
      return (await this.redis.client.hget(accountKey(userId), 'name')) || fallback;
    } catch {
      return fallback;
    }
  }
}
