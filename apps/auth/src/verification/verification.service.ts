import { Injectable } from '@nestjs/common';
import { ForbiddenError, NotFoundError, ValidationFailedError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitService, type RateLimitPolicy } from '@lattice/rate-limit';
import type { MediaType } from './verification.keys';
import { InvalidTokenError } from './verification.errors';
import { newVerificationToken, tokensMatch } from './verification-token';
import { VerificationRepository, type StoredChallenge } from './verification.repository';
import type { VerificationState } from './verification.types';

/**
 * Confirmation attempts allowed per challenge (`verify-challenge`, keyed by
 * network and address) and per client IP (`verify-ip`). With 36^8 possible
 * tokens, 10 guesses per 10 minutes for a challenge makes guessing hopeless
 * within any challenge's lifetime. Declared in the auth app's rate-limit registry.
 */
export const VERIFICATION_RATE_LIMITS: RateLimitPolicy[] = [
  { name: 'verify-challenge', limit: 10, window: 600 },
  { name: 'verify-ip', limit: 30, window: 600, key: 'ip' },
];

@Injectable()
export class VerificationService {
  private readonly networks: string[];
  private readonly ttlSeconds: number;

  constructor(
    private readonly challenges: VerificationRepository,
    private readonly limiter: RateLimitService,
    config: ConfigService,
  ) {
    ({ networks: this.networks, ttlSeconds: this.ttlSeconds } = config.get('verification'));
  }

  /** Starts a challenge for the caller, replacing any earlier one for the address. */
  async start(
    ownerId: string,
    input: { network: string; address: string; media: { type: MediaType; name: string }[] },
  ): Promise<VerificationState> {
    this.checkNetwork(input.network);
    const media = input.media.map((m) => ({ ...m, token: newVerificationToken() }));
    await this.challenges.start({ ...input, media, ownerId, ttlSeconds: this.ttlSeconds });
    return this.viewFor(await this.load(input.network, input.address), ownerId);
  }

  async get(
    network: string,
    address: string,
    viewerId: string | undefined,
  ): Promise<VerificationState> {
    this.checkNetwork(network);
    return this.viewFor(await this.load(network, address), viewerId);
  }

  async confirm(
    network: string,
    address: string,
    type: MediaType,
    token: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<VerificationState> {
    this.checkNetwork(network);
    const viewerId = request.user?.id;
    await this.limiter.enforce(
      [{ policy: 'verify-challenge', key: `${network}:${address}` }, 'verify-ip'],
      request,
      reply,
    );
    const challenge = await this.load(network, address);
    const medium = challenge.state.media.find((m) => m.type === type);
    if (!medium) throw new NotFoundError(`This challenge has no ${type} medium`);
    // A wrong token never changes anything, a confirmed medium included.
    if (!tokensMatch(medium.token ?? '', token)) throw new InvalidTokenError();
    const outcome = await this.challenges.confirm(network, address, type, medium.token!);
    if (outcome === 'GONE') throw new NotFoundError('No verification challenge for this address');
    if (outcome === 'STALE') throw new InvalidTokenError();
    return this.viewFor(await this.load(network, address), viewerId);
  }

  async remove(network: string, address: string, userId: string): Promise<void> {
    this.checkNetwork(network);
    const challenge = await this.load(network, address);
    if (challenge.ownerId !== userId)
      throw new ForbiddenError('Only the user who started this challenge may delete it');
    await this.challenges.remove(network, address);
  }

  private async load(network: string, address: string): Promise<StoredChallenge> {
    const challenge = await this.challenges.read(network, address);
    if (!challenge) throw new NotFoundError('No verification challenge for this address');
    return challenge;
  }

  /** Tokens for the owner only; everyone else sees names and statuses. */
  private viewFor(challenge: StoredChallenge, viewerId: string | undefined): VerificationState {
    const isOwner = viewerId !== undefined && challenge.ownerId === viewerId;
    return {
      ...challenge.state,
      media: challenge.state.media.map(({ token, ...rest }) =>
        isOwner ? { ...rest, token } : rest,
      ),
    };
  }

  private checkNetwork(network: string): void {
    if (!this.networks.includes(network)) {
      const message = `network must be one of ${this.networks.join(', ')}`;
      throw new ValidationFailedError(`Invalid input: ${message}`, [{ path: 'network', message }]);
    }
  }
}
