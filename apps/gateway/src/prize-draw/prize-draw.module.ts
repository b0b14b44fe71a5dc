import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsModule } from '@lattice/observability';
import { PresenceModule } from '@lattice/presence';
import { RedisModule } from '@lattice/redis';
import { DrawAssets } from './draw.assets';
import { DrawEvents } from './draw.events';
import { DrawPagesController } from './draw-pages.controller';
import { GithubClient } from './github.client';
import { PrizeDrawController } from './prize-draw.controller';
import { PRIZE_DRAW_OPTIONS } from './prize-draw.di-tokens';
import { PrizeDrawRepository } from './prize-draw.repository';
import { PrizeDrawService } from './prize-draw.service';
import type { PrizeDrawOptions } from './prize-draw.types';
import { ProfileService } from './profile.service';

/**
 * Prize draws (CONTRACT 4.3 and the `prizedraw:` keys of 7): the API under
 * /api/draws, the pages under /draw, live events through the realtime app.
 */
@Module({})
export class PrizeDrawModule {
  static forRoot(options: PrizeDrawOptions = {}): DynamicModule {
    return {
      module: PrizeDrawModule,
      imports: [PresenceModule, RedisModule, MetricsModule],
      controllers: [PrizeDrawController, DrawPagesController],
      providers: [
        { provide: PRIZE_DRAW_OPTIONS, useValue: options },
        PrizeDrawRepository,
        GithubClient,
        ProfileService,
        DrawEvents,
        PrizeDrawService,
        DrawAssets,
      ],
    };
  }
}
