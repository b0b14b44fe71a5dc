import { Injectable, Logger } from '@nestjs/common';
import { DrawEvents } from './draw.events';
import { drawView, parseWinners } from './draw-view';
import { entrantSnapshot } from './github-profile';
import {
  AlreadyEnteredError,
  DrawClosedError,
  DrawNotFoundError,
  DrawsUnavailableError,
  WinnersNotPickedError,
} from './prize-draw.errors';
import { PrizeDrawRepository } from './prize-draw.repository';
import type { DrawView, EntrantProfile, Winner } from './prize-draw.types';
import { ProfileService } from './profile.service';

const isOpen = (view: DrawView): boolean =>
  view.state === 'DRAW_OPEN_NO_ENTRANTS' || view.state === 'DRAW_OPEN_WITH_ENTRANTS';

/**
 * Prize draws (CONTRACT 4.3): many at once, each under its own id. Every
 * change is one script in Redis, so any number of gateway instances can
 * serve the same draw; each change is then pushed to the draw's pages.
 */
@Injectable()
export class PrizeDrawService {
  private readonly logger = new Logger('PrizeDraws');

  constructor(
    private readonly draws: PrizeDrawRepository,
    private readonly profiles: ProfileService,
    private readonly events: DrawEvents,
  ) {}

  /** Starts the draw `id`, replacing any earlier draw with that id. */
  async start(input: {
    id: string;
    prizes: string[];
    durationSeconds?: number | null;
  }): Promise<DrawView> {
    await this.draws.start({
      id: input.id,
      prizes: input.prizes,
      durationSeconds: input.durationSeconds ?? null,
      now: new Date(),
    });
    const view = await this.get(input.id);
    this.logger.log(
      `Draw ${input.id} started with ${input.prizes.length} prizes` +
        (input.durationSeconds ? ` for ${input.durationSeconds} s` : ''),
    );
    await this.events.started(view);
    return view;
  }

  async get(id: string): Promise<DrawView> {
    return drawView(id, await this.draws.read(id), Date.now());
  }

  /**
   * Enters a GitHub user. The draw is checked before GitHub is asked (no
   * look-up is spent on a closed draw or a second entry), and again, with
   * the entry itself, in one script.
   */
  async enter(id: string, githubId: string): Promise<EntrantProfile> {
    const view = await this.get(id);
    if (view.state === 'NO_DRAW') throw new DrawNotFoundError(id);
    if (!isOpen(view)) throw new DrawClosedError(id);
    if (await this.draws.isEntrant(id, githubId)) throw new AlreadyEnteredError(id, githubId);
    const profile = await this.profiles.profile(githubId);
    const outcome = await this.draws.enter(id, githubId, entrantSnapshot(profile));
    if (outcome === 'NO_DRAW') throw new DrawNotFoundError(id);
    if (outcome === 'CLOSED') throw new DrawClosedError(id);
    if (outcome === 'ALREADY_ENTERED') throw new AlreadyEnteredError(id, githubId);
    await this.events.entrants(id, outcome);
    return profile;
  }

  /** Closes the draw (nothing changes when it is closed already). */
  async close(id: string): Promise<void> {
    const outcome = await this.draws.close(id, new Date());
    if (outcome === 'NO_DRAW') throw new DrawNotFoundError(id);
    if (outcome === 'CLOSED') await this.events.closed(await this.get(id));
  }

  /**
   * Picks the winners once (closing the draw); every later call, on any
   * instance, answers the same winners.
   */
  async pickWinners(id: string): Promise<Winner[]> {
    const outcome = await this.draws.pickWinners(id, new Date());
    if (!outcome) throw new DrawNotFoundError(id);
    const winners = this.parse(id, outcome.json);
    if (outcome.closed) await this.events.closed(await this.get(id));
    if (outcome.picked) {
      this.logger.log(`Draw ${id}: ${winners.length} winners picked`);
      await this.events.winners(id, winners);
    }
    return winners;
  }

  async winners(id: string): Promise<Winner[]> {
    const json = await this.draws.winners(id);
    if (json !== null) return this.parse(id, json);
    if ((await this.get(id)).state === 'NO_DRAW') throw new DrawNotFoundError(id);
    throw new WinnersNotPickedError(id);
  }

  private parse(id: string, json: string): Winner[] {
    try {
      return parseWinners(json);
    } catch (error) {
      this.logger.error({ err: error }, `The winners answer of draw ${id} is unreadable`);
      throw new DrawsUnavailableError();
    }
  }
}
