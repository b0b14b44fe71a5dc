import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '@lattice/api';
import {
  ApiPresenceListing,
  listPresence,
  PresenceChannelParams,
  PresenceStore,
  type PresenceMember,
} from '@lattice/presence';
import { CurrentUser, type SessionUser } from '@lattice/session';

/** GET /api/presence/:channel: who is in a realtime channel, read from Redis (signed-in callers). */
@ApiTags('presence')
@ApiErrors(400, 429)
@Controller('api/presence')
export class PresenceController {
  constructor(private readonly store: PresenceStore) {}

  @Get(':channel')
  @ApiPresenceListing()
  members(
    @Param() { channel }: PresenceChannelParams,
    @CurrentUser() user: SessionUser,
  ): Promise<{ channel: string; members: PresenceMember[] }> {
    return listPresence(this.store, channel, user);
  }
}
