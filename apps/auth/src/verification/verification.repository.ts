import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, type RedisScript } from '@lattice/redis';
import { AccountKeys } from '../accounts/account.keys';
import { MEDIA_TYPES, VerificationKeys, type MediaType } from './verification.keys';
import type { MediumState, VerificationState, VerificationStatus } from './verification.types';

export interface StoredChallenge {
  state: VerificationState;
  ownerId: string | null;
}

/** Challenges in Redis, each written and confirmed by one script. */
@Injectable()
export class VerificationRepository {
  private readonly startScript: RedisScript<number>;
  private readonly confirmScript: RedisScript<'OK' | 'GONE' | 'STALE'>;
  private readonly removeOwnedScript: RedisScript<number>;

  constructor(private readonly redis: RedisService) {
    this.startScript = redis.script(join(__dirname, 'verification-start.lua'), 8);
    this.confirmScript = redis.script(join(__dirname, 'verification-confirm.lua'), 7);
    this.removeOwnedScript = redis.script(join(__dirname, 'verification-remove-owned.lua'), 8);
  }

  private keys(network: string, address: string): VerificationKeys {
    return new VerificationKeys(network, address, this.redis.isCluster);
  }

  async start(input: {
    network: string;
    address: string;
    ownerId: string;
    media: { type: MediaType; name: string; token: string }[];
    ttlSeconds: number;
  }): Promise<void> {
    const keys = this.keys(input.network, input.address);
    const perType = MEDIA_TYPES.flatMap((type) => {
      const medium = input.media.find((m) => m.type === type);
      return medium ? [medium.name, medium.token] : ['', ''];
    });
    await this.startScript.run(keys.all, [
      new Date().toISOString(),
      input.ttlSeconds,
      input.ownerId,
      input.media.map((m) => m.type).join(','),
      ...perType,
    ]);
    // The owner's index of challenges (the account's slot), so that deleting the account finds them.
    const index = new AccountKeys(input.ownerId, this.redis).verifications;
    await this.redis.client
      .multi()
      .sadd(index, `${input.network}:${input.address}`)
      .expire(index, input.ttlSeconds)
      .exec();
  }

  /**
   * Removes every challenge that `ownerId` started and still owns (one
   * restarted since by another user stays); the index itself goes with the
   * account's keys.
   */
  async removeOwnedBy(ownerId: string): Promise<void> {
    const index = new AccountKeys(ownerId, this.redis).verifications;
    for (const challenge of await this.redis.client.smembers(index)) {
      const colon = challenge.indexOf(':');
      const keys = this.keys(challenge.slice(0, colon), challenge.slice(colon + 1));
      await this.removeOwnedScript.run(keys.all, [ownerId]);
    }
  }

  async read(network: string, address: string): Promise<StoredChallenge | null> {
    const keys = this.keys(network, address);
    const [account, ownerId, ...media] = await Promise.all([
      this.redis.client.hgetall(keys.account),
      this.redis.client.get(keys.owner),
      ...keys.media.map((key) => this.redis.client.hgetall(key)),
    ]);
    const accountHash = account as Record<string, string>;
    if (!accountHash.status) return null;
    const types = (accountHash.media_types ?? '').split(',').filter(Boolean) as MediaType[];
    const mediaStates: MediumState[] = [];
    for (const type of types) {
      const hash = media[MEDIA_TYPES.indexOf(type)] as Record<string, string>;
      if (!hash?.status) continue;
      mediaStates.push({
        type,
        name: hash.name,
        status: hash.status as VerificationStatus,
        token: hash.token,
      });
    }
    return {
      ownerId: ownerId as string | null,
      state: {
        network,
        address,
        status: accountHash.status as VerificationStatus,
        createdAt: accountHash.created_at,
        updatedAt: accountHash.updated_at,
        media: mediaStates,
      },
    };
  }

  confirm(
    network: string,
    address: string,
    type: MediaType,
    token: string,
  ): Promise<'OK' | 'GONE' | 'STALE'> {
    const keys = this.keys(network, address);
    return this.confirmScript.run(
      [keys.account, ...keys.media],
      [2 + MEDIA_TYPES.indexOf(type), token, new Date().toISOString(), MEDIA_TYPES.join(',')],
    );
  }

  async remove(network: string, address: string): Promise<void> {
    await this.redis.client.del(...this.keys(network, address).all);
  }
}
