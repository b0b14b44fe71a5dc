import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@lattice/common';
import {
  ApiAnswer,
  ApiError,
  ApiErrors,
  ApiZodBody,
  BEARER_SCHEME,
  SESSION_COOKIE_SCHEME,
} from '@lattice/api';
import { cacheEventDocumentSchema, cacheEventResultSchema } from './cache-event.openapi';
import { CacheSyncGuard } from './cache-sync.guard';
import { CacheSyncService, type CacheEventResult } from './cache-sync.service';

/**
 * POST /api/cache/events (CONTRACT 6): one event per request, answered with
 * its result. Public for the session guard; CacheSyncGuard decides who may.
 * The body is validated by the service, so a bad event is 400 INVALID_EVENT
 * with every reason, not the generic VALIDATION_FAILED.
 */
@ApiTags('cache-sync')
@Public()
@Controller('api/cache')
export class CacheSyncController {
  constructor(private readonly sync: CacheSyncService) {}

  @Post('events')
  @HttpCode(200)
  @UseGuards(CacheSyncGuard)
  @ApiOperation({
    summary: 'Apply one cache-sync event',
    description:
      'One event (CONTRACT 6) per request, applied to the platform cache of every gateway instance. Send `Authorization: Bearer <CACHE_SYNC_TOKEN>` (when CACHE_SYNC_TOKEN is set), or a session with the admin role. A `url` must be http(s), on a host of CACHE_SYNC_ALLOWED_HOSTS, and answer within 5 s with at most 5 MiB.',
  })
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiCookieAuth(SESSION_COOKIE_SCHEME)
  @ApiZodBody(cacheEventDocumentSchema)
  @ApiAnswer(200, cacheEventResultSchema, 'What the event did')
  @ApiError(400, 'INVALID_EVENT', 'not an event of CONTRACT 6; `details` lists each problem')
  @ApiError(400, 'BLOB_URL_REFUSED', 'the `url` is not http(s) or not on an allowed host')
  @ApiError(400, 'VALIDATION_FAILED', 'the body nests objects and arrays more than 32 levels deep')
  @ApiError(401, 'UNAUTHENTICATED', 'neither the cache-sync token nor a session')
  @ApiError(403, 'FORBIDDEN', 'a session without the admin role')
  @ApiErrors(413, 429)
  @ApiError(502, 'BLOB_FETCH_FAILED', 'the `url` could not be fetched; nothing was stored')
  @ApiError(502, 'BLOB_TOO_LARGE', 'the `url` sent more than 5 MiB; nothing was stored')
  @ApiError(503, 'UNAVAILABLE', 'the cache (Redis) or sessions are unreachable')
  @ApiError(504, 'BLOB_FETCH_TIMEOUT', 'the `url` did not answer within 5 s; nothing was stored')
  apply(@Body() body: unknown): Promise<CacheEventResult> {
    return this.sync.handle(body, 'http');
  }
}
