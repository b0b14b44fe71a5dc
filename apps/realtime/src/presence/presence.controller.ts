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

/** Who is in a channel, as every instance sees it (signed-in callers only). */
@ApiTags('presence')
@ApiErrors(400, 429)
@Controller('realtime/presence')
export class PresenceController {
  constructor(private readonly store: PresenceStore) {}

  @Get(':channel')
  // The gateway's PresenceController has the same class and method names.
  @ApiPresenceListing('RealtimePresence_members')
  members(
    @Param() { channel }: PresenceChannelParams,
    @CurrentUser() user: SessionUser,
  ): Promise<{ channel: string; members: PresenceMember[] }> {
    return listPresence(this.store, channel, user);
  }
}
