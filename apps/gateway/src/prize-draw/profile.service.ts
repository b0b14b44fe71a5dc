import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { LatticeError } from '@lattice/common';
import { MetricsService } from '@lattice/observability';
import { GithubClient } from './github.client';
import { asGithubUser, entrantProfile, type GithubUser } from './github-profile';
import { PrizeDrawRepository } from './prize-draw.repository';
import type { EntrantProfile } from './prize-draw.types';

function parseCached(json: string): GithubUser | null {
  try {
    return asGithubUser(JSON.parse(json));
  } catch {
    return null;
  }
}

/**
 * Entrants' GitHub profiles: from the one-hour cache
 * (`prizedraw:profiles:<githubId>`), else from GitHub, then cached. Lookups
 * of one id already under way on this instance are shared, so a burst of the
 * same name costs GitHub one request.
 */
@Injectable()
export class ProfileService {
  private readonly inFlight = new Map<string, Promise<EntrantProfile>>();
  private readonly lookups: Counter<'source' | 'outcome'>;

  constructor(
    private readonly github: GithubClient,
    private readonly repository: PrizeDrawRepository,
    metrics: MetricsService,
  ) {
    this.lookups = metrics.counter(
      'lattice_prize_draw_profile_lookups_total',
      'GitHub profile look-ups for prize-draw entries, by source (cache, github) and outcome',
      ['source', 'outcome'],
    );
  }

  /** The profile of a valid, lower-cased GitHub id; NOT_FOUND or UNAVAILABLE otherwise. */
  async profile(githubId: string): Promise<EntrantProfile> {
    const cached = await this.repository.cachedProfile(githubId);
    const user = cached === null ? null : parseCached(cached);
    if (user) {
      this.lookups.inc({ source: 'cache', outcome: 'found' });
      return entrantProfile(githubId, user);
    }
    let pending = this.inFlight.get(githubId);
    if (!pending) {
      pending = this.fetch(githubId).finally(() => this.inFlight.delete(githubId));
      this.inFlight.set(githubId, pending);
    }
    return pending;
  }

  private async fetch(githubId: string): Promise<EntrantProfile> {
    let user: GithubUser;
    try {
      user = await this.github.user(githubId);
    } catch (error) {
      const outcome =
        error instanceof LatticeError && error.status === 404 ? 'not_found' : 'failed';
      this.lookups.inc({ source: 'github', outcome });
      throw error;
    }
    this.lookups.inc({ source: 'github', outcome: 'found' });
    await this.repository.cacheProfile(githubId, JSON.stringify(user));
    return entrantProfile(githubId, user);
  }
}
