import { Controller, Get, Param } from '@nestjs/common';
import {
  listPresence,
  PresenceChannelParams,
  PresenceStore,
  type PresenceMember,
} from '@lattice/presence';
import { CurrentUser, type SessionUser } from '@lattice/session';

/** Who is in a channel, as every instance sees it (signed-in callers only). */
@Controller('realtime/presence')
export class PresenceController {
  constructor(private readonly store: PresenceStore) {}

  @Get(':channel')
  members(
    @Param() { channel }: PresenceChannelParams,
    @CurrentUser() user: SessionUser,
  ): Promise<{ channel: string; members: PresenceMember[] }> {
    return listPresence(this.store, channel, user);
  }
}
