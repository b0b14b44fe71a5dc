import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { RedisService, type RedisScript } from '@lattice/redis';
import { AccountKeys, mfaChallengeKey } from '../accounts/account.keys';

/** How long an enrolment may wait for its first code. */
export const ENROLMENT_TTL_SECONDS = 600;
/** How long a login challenge lives: CONTRACT 8.2 says at most 5 minutes. */
export const CHALLENGE_TTL_SECONDS = 300;
/** Codes tried per login challenge before it is gone. */
export const CHALLENGE_ATTEMPTS = 5;

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The second factor in Redis (key layout in account.keys.ts). */
@Injectable()
export class MfaRepository {
  private readonly useScript: RedisScript<number>;
  private readonly activateScript: RedisScript<number>;
  private readonly attemptScript: RedisScript<[string, string, string] | null>;

  constructor(private readonly redis: RedisService) {
    this.useScript = redis.script(join(__dirname, 'totp-use.lua'), 1);
    this.activateScript = redis.script(join(__dirname, 'totp-activate.lua'), 4);
    this.attemptScript = redis.script(join(__dirname, 'mfa-challenge-attempt.lua'), 1);
  }

  private keys(userId: string): AccountKeys {
    return new AccountKeys(userId, this.redis);
  }

  /** The active factor's secret, or null when the user has none. */
  async secret(userId: string): Promise<string | null> {
    return this.redis.client.hget(this.keys(userId).totp, 'secret');
  }

  async startEnrolment(userId: string, secret: string): Promise<void> {
    await this.redis.client.set(this.keys(userId).totpPending, secret, 'EX', ENROLMENT_TTL_SECONDS);
  }

  async pendingSecret(userId: string): Promise<string | null> {
    return this.redis.client.get(this.keys(userId).totpPending);
  }

  /** Makes the enrolment of `secret` active with these recovery codes (hashes); false when it changed. */
  async activate(
    userId: string,
    generation: string,
    secret: string,
    step: number,
    recoveryHashes: string[],
  ): Promise<boolean> {
    const keys = this.keys(userId);
    const activated = await this.activateScript.run(
      [keys.profile, keys.totp, keys.totpPending, keys.recovery],
      [generation, secret, step, new Date().toISOString(), ...recoveryHashes],
    );
    return activated === 1;
  }

  /** Records `step` as used for the factor of `secret`; false when it (or a later one) was used. */
  async useStep(userId: string, secret: string, step: number): Promise<boolean> {
    return (await this.useScript.run([this.keys(userId).totp], [secret, step])) === 1;
  }

  /** Uses up a recovery code; false when it is not one of the user's unused codes. */
  async useRecoveryCode(userId: string, code: string): Promise<boolean> {
    return (await this.redis.client.srem(this.keys(userId).recovery, sha256(code))) === 1;
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    return this.redis.client.scard(this.keys(userId).recovery);
  }

  /** Removes the factor, an enrolment under way and the recovery codes. */
  async remove(userId: string): Promise<void> {
    const keys = this.keys(userId);
    await this.redis.client.del(keys.totp, keys.totpPending, keys.recovery);
  }

  /** A login's second step, for the account of `generation` whose password hash was `passwordHash`. */
  async createChallenge(
    challenge: string,
    userId: string,
    generation: string,
    passwordHash: string,
  ): Promise<void> {
    const key = mfaChallengeKey(sha256(challenge));
    const pw = sha256(passwordHash);
    await this.redis.client
      .multi()
      .hset(key, 'user', userId, 'gen', generation, 'pw', pw, 'attempts', 0)
      .expire(key, CHALLENGE_TTL_SECONDS)
      .exec();
  }

  /** Counts an attempt at `challenge`: its account, or null when it is unknown, expired or used up. */
  async attemptChallenge(
    challenge: string,
  ): Promise<{ userId: string; generation: string; passwordFingerprint: string } | null> {
    const found = await this.attemptScript.run(
      [mfaChallengeKey(sha256(challenge))],
      [CHALLENGE_ATTEMPTS],
    );
    return found ? { userId: found[0], generation: found[1], passwordFingerprint: found[2] } : null;
  }

  /** Ends a challenge once it signed the user in: single use. */
  async endChallenge(challenge: string): Promise<void> {
    await this.redis.client.del(mfaChallengeKey(sha256(challenge)));
  }
}
