import { z } from 'zod';
import { ForbiddenError } from '@lattice/common';
import { ZodDto } from '@lattice/http';
import { channelNameSchema, mayAccessChannel } from './presence-input';
import type { PresenceStore } from './presence.store';
import type { PresenceMember } from './presence.types';

/** The `:channel` path parameter of the presence listing routes. */
export class PresenceChannelParams extends ZodDto(z.strictObject({ channel: channelNameSchema })) {}

/**
 * The listing behind `GET /realtime/presence/:channel` and
 * `GET /api/presence/:channel`: a `user:<id>` channel is shown only to its
 * user and to admins.
 */
export async function listPresence(
  store: PresenceStore,
  channel: string,
  viewer: { id: string; roles: string[] },
): Promise<{ channel: string; members: PresenceMember[] }> {
  if (!mayAccessChannel(channel, viewer.id) && !viewer.roles.includes('admin')) {
    throw new ForbiddenError(`Only its user may see who is in ${channel}`);
  }
  return { channel, members: await store.members(channel) };
}
