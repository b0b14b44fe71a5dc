import { applyDecorators } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { z } from 'zod';
import { ForbiddenError } from '@lattice/common';
import { ApiAnswer, ApiError, ApiSession } from '@lattice/api';
import { mayAccessChannel } from './presence-input';
import type { PresenceStore } from './presence.store';
import type { PresenceMember } from './presence.types';

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
 * The OpenAPI description of a presence listing route, the same in every app
 * that serves one; `operationId` tells apart routes whose class and method
 * names are alike.
 */
export function ApiPresenceListing(operationId?: string): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      summary: 'Who is in a realtime channel',
      description:
        'Every member present in the channel, as all instances see it. A `user:<id>` channel is shown only to that user and to admins.',
      ...(operationId ? { operationId } : {}),
    }),
    ApiSession(),
    ApiAnswer(200, presenceListingSchema, 'The members of the channel'),
    ApiError(
      403,
      'FORBIDDEN',
      'a `user:<id>` channel of another user, for a caller who is not an admin',
    ),
    ApiError(503, 'UNAVAILABLE', 'presence cannot be read right now'),
  );
}

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
