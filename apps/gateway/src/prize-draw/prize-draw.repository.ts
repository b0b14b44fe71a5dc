import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, withRedis, type RedisScript } from '@lattice/redis';
import { PrizeDrawKeys, PROFILE_TTL_SECONDS, profileKey } from './prize-draw.keys';
import { DrawsUnavailableError } from './prize-draw.errors';
import type { DrawSnapshot, EntrantSnapshot } from './prize-draw.types';

type ReadReply = [number, number, number, number, number, string[], string[]];

/** What entering answered: the number of entrants now, or why not. */
export type EnterOutcome = number | 'ALREADY_ENTERED' | 'CLOSED' | 'NO_DRAW';

export interface PickOutcome {
  json: string;
  /** This call picked the winners (an earlier call did otherwise). */
  picked: boolean;
  /** This call closed the draw. */
  closed: boolean;
}

/**
 * Draws in Redis (CONTRACT 7's `prizedraw:` keys), every change one script
 * on the draw's keys. Any failure of Redis is UNAVAILABLE, never a 500.
 */
@Injectable()
export class PrizeDrawRepository {
  private readonly startScript: RedisScript<number>;
  private readonly readScript: RedisScript<ReadReply>;
  private readonly enterScript: RedisScript<number>;
  private readonly closeScript: RedisScript<number>;
  private readonly winnersScript: RedisScript<[string, number, number] | null>;

  constructor(private readonly redis: RedisService) {
    const script = <T>(file: string) => redis.script<T>(join(__dirname, file), 7);
    this.startScript = script('draw-start.lua');
    this.readScript = script('draw-read.lua');
    this.enterScript = script('draw-enter.lua');
    this.closeScript = script('draw-close.lua');
    this.winnersScript = script('draw-winners.lua');
  }

  private keys(id: string): string[] {
    return new PrizeDrawKeys(id, this.redis.isCluster).all;
  }

  async start(input: {
    id: string;
    prizes: string[];
    durationSeconds: number | null;
    now: Date;
  }): Promise<void> {
    const closesAt = input.durationSeconds
      ? new Date(input.now.getTime() + input.durationSeconds * 1000).toISOString()
      : '';
    await guarded(() =>
      this.startScript.run(this.keys(input.id), [
        input.durationSeconds ?? 0,
        input.now.toISOString(),
        closesAt,
        JSON.stringify(input.prizes),
        ...input.prizes,
      ]),
    );
  }

  async read(id: string): Promise<DrawSnapshot> {
    const [existing, openTtlMs, won, entrantsLeft, winners, prizesLeft, meta] = await guarded(() =>
      this.readScript.run(this.keys(id)),
    );
    const metaHash: Record<string, string> = {};
    for (let i = 0; i + 1 < meta.length; i += 2) metaHash[meta[i]] = meta[i + 1];
    return {
      existing,
      openTtlMs,
      won: won === 1,
      entrantsLeft,
      winners,
      prizesLeft,
      meta: metaHash,
    };
  }

  async isEntrant(id: string, githubId: string): Promise<boolean> {
    const entrants = new PrizeDrawKeys(id, this.redis.isCluster).entrants;
    return (await guarded(() => this.redis.client.sismember(entrants, githubId))) === 1;
  }

  async enter(id: string, githubId: string, snapshot: EntrantSnapshot): Promise<EnterOutcome> {
    const reply = await guarded(() =>
      this.enterScript.run(this.keys(id), [githubId, JSON.stringify(snapshot)]),
    );
    if (reply === 0) return 'ALREADY_ENTERED';
    if (reply === -1) return 'CLOSED';
    if (reply === -2) return 'NO_DRAW';
    return reply;
  }

  /** 'CLOSED' when this call closed it, 'ALREADY' when it was closed, 'NO_DRAW' when none. */
  async close(id: string, now: Date): Promise<'CLOSED' | 'ALREADY' | 'NO_DRAW'> {
    const reply = await guarded(() => this.closeScript.run(this.keys(id), [now.toISOString()]));
    return reply === 1 ? 'CLOSED' : reply === 0 ? 'ALREADY' : 'NO_DRAW';
  }

  /** The winners (picked now or earlier), or null when there is no such draw. */
  async pickWinners(id: string, now: Date): Promise<PickOutcome | null> {
    const reply = await guarded(() => this.winnersScript.run(this.keys(id), [now.toISOString()]));
    if (!reply) return null;
    return { json: reply[0], picked: reply[1] === 1, closed: reply[2] === 1 };
  }

  /** The cached winners answer, or null before the winners are picked. */
  async winners(id: string): Promise<string | null> {
    const key = new PrizeDrawKeys(id, this.redis.isCluster).winnersJson;
    return guarded(() => this.redis.client.get(key));
  }

  /** A cached GitHub profile (its JSON), or null. */
  async cachedProfile(githubId: string): Promise<string | null> {
    return guarded(() => this.redis.client.get(profileKey(githubId)));
  }

  async cacheProfile(githubId: string, json: string): Promise<void> {
    await guarded(() =>
      this.redis.client.set(profileKey(githubId), json, 'EX', PROFILE_TTL_SECONDS),
    );
  }
}

/** Runs a Redis call; a failure of Redis is the platform's 503, as prize draws say it. */
function guarded<T>(work: () => Promise<T>): Promise<T> {
  return withRedis(work, () => new DrawsUnavailableError());
}
