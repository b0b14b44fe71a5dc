import { z } from 'zod';
import { ForbiddenError } from '@lattice/common';
import { ZodDto } from '@lattice/http';
import { channelNameSchema, mayAccessChannel } from './presence-input';
import type { PresenceStore } from './presence.store';
import type { PresenceMember } from './presence.types';

/** The `:channel` path parameter of the presence listing routes. */
export class PresenceChannelParams extends ZodDto(z.strictObject({ channel: channelNameSchema })) {}

/** What the listing routes answer, for their OpenAPI description (CONTRACT 5 members). */
export const presenceListingSchema = z.object({
  channel: z.string(),
  members: z.array(
    z.object({
      userId: z.string(),
      login: z.string(),
      name: z.string().describe("The user's display name, else the login"),
      meta: z
        .record(z.string(), z.unknown())
        .describe("The meta most recently set by any of the user's connections in the channel"),
      connections: z
        .number()
        .int()
        .nonnegative()
        .describe("How many of the user's connections are in the channel"),
      joinedAt: z.iso.datetime().describe("When the user's first current connection joined"),
    }),
  ),
}) satisfies z.ZodType<{ channel: string; members: PresenceMember[] }>;

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
