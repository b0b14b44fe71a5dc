import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import { asGithubUser, type GithubUser } from './github-profile';
import { GITHUB_ID } from './prize-draw.dto';
import { PRIZE_DRAW_OPTIONS } from './prize-draw.di-tokens';
import { GithubUnavailableError, GithubUserNotFoundError } from './prize-draw.errors';
import type { PrizeDrawOptions } from './prize-draw.types';
import { readCappedBody } from '../fetching/capped-body';

export const GITHUB_TIMEOUT_MS = 3000;
/** A user answer is about 1.5 KiB; anything far larger is not one. */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * Looks users up at `GET {GITHUB_API_URL}/users/{id}` (CONTRACT 4.3), the whole
 * exchange bounded by one deadline (3 s), the body by size. GitHub's 404 is
 * "no such user"; any other failure (an error status, rate limiting, a
 * timeout, an unreachable host, a body that is not a user) is UNAVAILABLE,
 * never a hang or a 500.
 */
@Injectable()
export class GithubClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(config: ConfigService, @Inject(PRIZE_DRAW_OPTIONS) options: PrizeDrawOptions) {
    this.baseUrl = config.get('prizeDraw').githubApiUrl.replace(/\/+$/, '');
    this.timeoutMs = options.githubTimeoutMs ?? GITHUB_TIMEOUT_MS;
  }

  async user(githubId: string): Promise<GithubUser> {
    // The DTO checked it already; this keeps anything else out of the URL whoever calls.
    if (!GITHUB_ID.test(githubId)) throw new GithubUserNotFoundError(githubId);
    const deadline = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/users/${githubId}`, {
        signal: deadline,
        headers: {
          accept: 'application/vnd.github+json',
          'user-agent': 'lattice-prize-draw',
          'x-github-api-version': '2022-11-28',
        },
      });
    } catch {
      throw new GithubUnavailableError(
        deadline.aborted ? this.tooSlow() : 'GitHub could not be reached',
      );
    }
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      throw new GithubUserNotFoundError(githubId);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const limited =
        response.status === 429 ||
        (response.status === 403 && response.headers.get('x-ratelimit-remaining') === '0');
      throw new GithubUnavailableError(
        limited ? 'GitHub is rate-limiting look-ups' : `GitHub answered ${response.status}`,
      );
    }
    const text = await this.readCapped(response, deadline);
    let user: GithubUser | null = null;
    try {
      user = asGithubUser(JSON.parse(text));
    } catch {
      user = null;
    }
    if (!user) throw new GithubUnavailableError('GitHub answered something that is not a user');
    return user;
  }

  private tooSlow(): string {
    return `GitHub did not answer within ${this.timeoutMs / 1000} s`;
  }

  private async readCapped(response: Response, deadline: AbortSignal): Promise<string> {
    let body: Buffer | null;
    try {
      body = await readCappedBody(response, MAX_BODY_BYTES);
    } catch {
      throw new GithubUnavailableError(
        deadline.aborted ? this.tooSlow() : 'the answer from GitHub broke off',
      );
    }
    if (body === null) throw new GithubUnavailableError('GitHub answered with an oversized body');
    return body.toString('utf8');
  }
}
