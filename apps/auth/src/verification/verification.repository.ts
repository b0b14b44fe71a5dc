import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, type RedisScript } from '@lattice/redis';
import { MEDIA_TYPES, VerificationKeys, type MediaType } from './verification-keys';
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

  constructor(private readonly redis: RedisService) {
    this.startScript = redis.script(join(__dirname, 'verification-start.lua'), 8);
    this.confirmScript = redis.script(join(__dirname, 'verification-confirm.lua'), 7);
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
