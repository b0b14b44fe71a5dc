import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { Public } from '@lattice/common';
import { CacheSyncGuard } from './cache-sync.guard';
import { CacheSyncService, type CacheEventResult } from './cache-sync.service';

/**
 * POST /api/cache/events (CONTRACT 6): one event per request, answered with
 * its result. Public for the session guard; CacheSyncGuard decides who may.
 * The body is validated by the service, so a bad event is 400 INVALID_EVENT
 * with every reason, not the generic VALIDATION_FAILED.
 */
@Public()
@Controller('api/cache')
export class CacheSyncController {
  constructor(private readonly sync: CacheSyncService) {}

  @Post('events')
  @HttpCode(200)
  @UseGuards(CacheSyncGuard)
  apply(@Body() body: unknown): Promise<CacheEventResult> {
    return this.sync.handle(body, 'http');
  }
}
