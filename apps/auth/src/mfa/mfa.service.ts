import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitService, type RateLimitPolicy } from '@lattice/rate-limit';
import { AccountsService } from '../accounts/accounts.service';
import type { StoredAccount } from '../accounts/accounts.repository';

/** An account with the password hash a login checked. */
type Credentials = StoredAccount & { passwordHash: string };
import {
  ChallengeExpiredError,
  CodeRequiredError,
  InvalidCodeError,
  MfaAlreadyActiveError,
  MfaNotActiveError,
  NoEnrolmentError,
} from './mfa.errors';
import { CHALLENGE_TTL_SECONDS, MfaRepository, sha256 } from './mfa.repository';

/** RFC 6238's defaults, which every authenticator app reads: SHA-1, 6 digits, 30 s. */
const PERIOD_SECONDS = 30;
const ISSUER = 'Lattice';
const RECOVERY_CODES = 10;

/**
 * Code attempts per account, whatever the challenge or route: 10 in 15
 * minutes, then the account's codes are refused for 15 minutes. With 10^6
 * codes and three accepted at a time (the window), a guesser needs on the
 * order of 10^4 blocks: years.
 */
export const MFA_RATE_LIMITS: RateLimitPolicy[] = [
  { name: 'mfa-code', limit: 10, window: 900, block: 900 },
];

/** A recovery code: 10 characters of base32 in two groups (50 bits), e.g. `k3v9q-7xm2a`. */
function recoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  const chars = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

const totpOf = (secret: string, label = ''): TOTP =>
  new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secret), period: PERIOD_SECONDS });

export interface Enrolment {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/**
 * The second factor (TOTP, RFC 6238) and its recovery codes. A code is
 * accepted within one step either side of now, and only once: the step of
 * the last accepted code is kept in Redis and checked in the same script that
 * records the next, so no code works twice on any instance.
 */
@Injectable()
export class MfaService {
  constructor(
    private readonly repository: MfaRepository,
    private readonly accounts: AccountsService,
    private readonly limiter: RateLimitService,
  ) {}

  async isActive(userId: string): Promise<boolean> {
    return (await this.repository.secret(userId)) !== null;
  }

  /** Starts (or restarts) an enrolment: the secret, as a URI and a QR code, not yet in force. */
  async enrol(userId: string, login: string): Promise<Enrolment> {
    if (await this.isActive(userId)) throw new MfaAlreadyActiveError();
    const secret = new Secret({ size: 20 }).base32;
    await this.repository.startEnrolment(userId, secret);
    const otpauthUri = totpOf(secret, login).toString();
    const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M' });
    return { secret, otpauthUri, qrSvg };
  }

  /** Confirms the enrolment with a first code: the factor is active, and its recovery codes are shown once. */
  async confirm(
    account: StoredAccount,
    code: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<string[]> {
    const userId = account.profile.id;
    await this.limit(userId, request, reply);
    if (await this.isActive(userId)) throw new MfaAlreadyActiveError();
    const secret = await this.repository.pendingSecret(userId);
    if (!secret) throw new NoEnrolmentError();
    const step = this.stepOf(secret, code);
    if (step === null) throw new InvalidCodeError();
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    const activated = await this.repository.activate(
      userId,
      account.generation,
      secret,
      step,
      codes.map(sha256),
    );
    // Another confirmation or enrolment won the race.
    if (!activated) throw new NoEnrolmentError();
    return codes;
  }

  /** Disables the factor after the password and a code. */
  async disable(
    userId: string,
    password: string,
    code: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    await this.accounts.verifyPassword(userId, password);
    if (!(await this.isActive(userId))) throw new MfaNotActiveError();
    await this.checkCode(userId, code, request, reply);
    await this.repository.remove(userId);
  }

  /** An admin's reset: the factor, an enrolment under way and the recovery codes are gone. */
  async reset(userId: string): Promise<void> {
    await this.repository.remove(userId);
  }

  /** After the right password of an account with a factor: the challenge for the second step. */
  async challenge(
    account: Credentials,
  ): Promise<{ mfaRequired: true; challenge: string; expiresAt: string }> {
    const challenge = randomBytes(32).toString('base64url');
    const { profile, generation, passwordHash } = account;
    await this.repository.createChallenge(challenge, profile.id, generation, passwordHash);
    const expiresAt = new Date(Date.now() + CHALLENGE_TTL_SECONDS * 1000).toISOString();
    return { mfaRequired: true, challenge, expiresAt };
  }

  /**
   * The second step of a login: the account of the challenge once its code
   * (TOTP or recovery) is right. Each attempt counts against the challenge
   * (five, then it is gone) and the account (MFA_RATE_LIMITS).
   */
  async completeLogin(
    challenge: string,
    code: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Credentials> {
    const found = await this.repository.attemptChallenge(challenge);
    if (!found) throw new ChallengeExpiredError();
    await this.checkCode(found.userId, code, request, reply);
    await this.repository.endChallenge(challenge);
    const { account, passwordHash } = await this.accounts.credentials(found.userId);
    // Deleted, taken by another account, or its password changed since the first step.
    if (
      !account ||
      !passwordHash ||
      account.generation !== found.generation ||
      sha256(passwordHash) !== found.passwordFingerprint
    ) {
      throw new ChallengeExpiredError();
    }
    return { ...account, passwordHash };
  }

  /** For an action that needs the second factor when there is one (deleting the account). */
  async checkIfActive(
    userId: string,
    code: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    if (!(await this.isActive(userId))) return;
    if (code === undefined) throw new CodeRequiredError();
    await this.checkCode(userId, code, request, reply);
  }

  /** Accepts a TOTP code (once) or an unused recovery code of the active factor; 401 otherwise. */
  private async checkCode(
    userId: string,
    code: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    await this.limit(userId, request, reply);
    if (/^\d{6}$/.test(code)) {
      const secret = await this.repository.secret(userId);
      const step = secret === null ? null : this.stepOf(secret, code);
      if (step !== null && (await this.repository.useStep(userId, secret!, step))) return;
    } else if (await this.repository.useRecoveryCode(userId, code.toLowerCase())) {
      return;
    }
    throw new InvalidCodeError();
  }

  private limit(userId: string, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    return this.limiter.enforce([{ policy: 'mfa-code', key: `user:${userId}` }], request, reply);
  }

  /** The time step of `code` when it is right within one step of now, else null. */
  private stepOf(secret: string, code: string): number | null {
    const now = Date.now();
    // otpauth compares in constant time.
    const delta = totpOf(secret).validate({ token: code, timestamp: now, window: 1 });
    return delta === null ? null : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
  }
}
