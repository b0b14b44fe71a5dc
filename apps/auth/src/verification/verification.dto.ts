import { z } from 'zod';
import { ZodDto } from '@lattice/api';
import { MEDIA_TYPES } from './verification.keys';
import type { VerificationState } from './verification.types';

/** Base58 (Substrate SS58) and hex addresses alike: letters and digits, nothing else. */
const address = z.string().regex(/^[A-Za-z0-9]{3,128}$/, 'must be 3 to 128 letters and digits');
const network = z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be a network name');
const mediaType = z.enum(MEDIA_TYPES, { message: `must be one of ${MEDIA_TYPES.join(', ')}` });
/** Account names on other media: printable, no control characters. */
const mediaName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

export class StartVerificationBody extends ZodDto(
  z.strictObject({
    network,
    address,
    media: z
      .array(z.strictObject({ type: mediaType, name: mediaName }))
      .min(1, 'must list at least one medium')
      .max(MEDIA_TYPES.length, `must list at most ${MEDIA_TYPES.length} media`)
      .refine(
        (media) => new Set(media.map((m) => m.type)).size === media.length,
        'must not list a media type twice',
      ),
  }),
) {}

export class ChallengeParams extends ZodDto(z.strictObject({ network, address })) {}

export class MediumParams extends ZodDto(z.strictObject({ network, address, type: mediaType })) {}

export class ConfirmBody extends ZodDto(
  z.strictObject({
    token: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  }),
) {}

const status = z.enum(['Pending', 'Done']);

/** The challenge state (CONTRACT 4.2), for the OpenAPI document. */
export const verificationStateSchema = z.object({
  network: z.string(),
  address: z.string(),
  status: status.describe('Done once every medium is'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  media: z.array(
    z.object({
      type: z.enum(MEDIA_TYPES),
      name: z.string(),
      status,
      token: z
        .string()
        .regex(/^[A-Z0-9]{8}$/)
        .optional()
        .describe("Shown to the challenge's owner only"),
    }),
  ),
}) satisfies z.ZodType<VerificationState>;
