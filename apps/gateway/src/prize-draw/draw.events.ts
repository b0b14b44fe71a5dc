import { Injectable, Logger } from '@nestjs/common';
import { PresencePublisher } from '@lattice/presence';
import type { DrawView, Winner } from './prize-draw.types';

/** The realtime app's anonymous, read-only namespace for draw pages. */
export const DRAWS_NAMESPACE = '/draws';

/** The presence channel whose room (`roomOf`) a draw's watchers are in. */
export const drawChannel = (id: string): string => `draw:${id}`;

/** Events a draw page receives, with their payloads. */
export const DRAW_EVENTS = {
  /** DrawView: the draw was started (or restarted, replacing the old one). */
  started: 'draw:started',
  /** { id, entrants }: someone entered. */
  entrants: 'draw:entrants',
  /** DrawView: the admin closed the draw (also sent when picking winners closes it). */
  closed: 'draw:closed',
  /** { id, winners }: the winners were picked. */
  winners: 'draw:winners',
} as const;

/**
 * Pushes draw changes to every page watching the draw, through the realtime
 * app (PresencePublisher on the `/draws` namespace). A change is already made
 * when its event is sent, so a failure to send is logged, never thrown: pages
 * also read the draw again whenever their connection comes back.
 */
@Injectable()
export class DrawEvents {
  private readonly logger = new Logger('PrizeDrawEvents');

  constructor(private readonly publisher: PresencePublisher) {}

  started(view: DrawView): Promise<void> {
    return this.send(view.id, DRAW_EVENTS.started, view);
  }

  entrants(id: string, entrants: number): Promise<void> {
    return this.send(id, DRAW_EVENTS.entrants, { id, entrants });
  }

  closed(view: DrawView): Promise<void> {
    return this.send(view.id, DRAW_EVENTS.closed, view);
  }

  winners(id: string, winners: Winner[]): Promise<void> {
    return this.send(id, DRAW_EVENTS.winners, { id, winners });
  }

  private async send(id: string, event: string, payload: unknown): Promise<void> {
    try {
      await this.publisher.publish(drawChannel(id), event, payload, {
        namespace: DRAWS_NAMESPACE,
      });
    } catch (error) {
      this.logger.warn(`Could not announce ${event} for draw ${id}: ${(error as Error).message}`);
    }
  }
}
