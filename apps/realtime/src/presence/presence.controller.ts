import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/http';
import {
  listPresence,
  PresenceChannelParams,
  presenceListingSchema,
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
  @ApiOperation({
    summary: 'Who is in a realtime channel',
    description:
      'Every member present in the channel, as all instances see it. A `user:<id>` channel is shown only to that user and to admins.',
    // The gateway's PresenceController has the same class and method names.
    operationId: 'RealtimePresence_members',
  })
  @ApiSession()
  @ApiAnswer(200, presenceListingSchema, 'The members of the channel')
  @ApiError(
    403,
    'FORBIDDEN',
    'a `user:<id>` channel of another user, for a caller who is not an admin',
  )
  @ApiError(503, 'UNAVAILABLE', 'presence cannot be read right now')
  members(
    @Param() { channel }: PresenceChannelParams,
    @CurrentUser() user: SessionUser,
  ): Promise<{ channel: string; members: PresenceMember[] }> {
    return listPresence(this.store, channel, user);
  }
}
