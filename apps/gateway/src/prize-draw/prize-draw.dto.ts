import { z } from 'zod';
import { ZodDto } from '@lattice/api';

export const MAX_PRIZES = 100;
export const MAX_PRIZE_LENGTH = 200;
/** Thirty days: long enough for any draw, short enough to be a mistake past it. */
export const MAX_DURATION_SECONDS = 30 * 24 * 3600;

/** `profiles` would share its keys with the profile cache (`prizedraw:profiles:<githubId>`). */
const RESERVED_DRAW_IDS = new Set(['profiles']);

/** CONTRACT 4.3: 1 to 64 characters of a-z 0-9 _ -. */
export const DRAW_ID = /^[a-z0-9_-]{1,64}$/;

export const drawIdSchema = z
  .string()
  .regex(DRAW_ID, 'must be 1 to 64 characters of a-z 0-9 _ -')
  .refine((id) => !RESERVED_DRAW_IDS.has(id), 'is reserved; choose another draw id');

/**
 * GitHub's rules for user names: 1 to 39 characters, letters, digits and
 * single hyphens, neither first nor last. Checked before any request leaves,
 * so nothing but a valid name is ever put in a GitHub URL.
 */
export const GITHUB_ID = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

export const githubIdSchema = z
  .string()
  .trim()
  .regex(
    GITHUB_ID,
    'must be a GitHub user name: 1 to 39 letters, digits and single hyphens, not starting or ending with a hyphen',
  )
  .transform((id) => id.toLowerCase());

const prize = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_PRIZE_LENGTH, `must be at most ${MAX_PRIZE_LENGTH} characters`)
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

export class StartDrawBody extends ZodDto(
  z.strictObject({
    id: drawIdSchema,
    prizes: z
      .array(prize)
      .min(1, 'must list at least one prize')
      .max(MAX_PRIZES, `must list at most ${MAX_PRIZES} prizes`)
      .refine((prizes) => new Set(prizes).size === prizes.length, 'must not list a prize twice'),
    durationSeconds: z
      .number({ message: 'must be a whole number of seconds' })
      .int('must be a whole number of seconds')
      .min(1, 'must be at least 1 second')
      .max(MAX_DURATION_SECONDS, `must be at most ${MAX_DURATION_SECONDS} seconds (30 days)`)
      .nullish(),
  }),
) {}

export class DrawParams extends ZodDto(z.strictObject({ id: drawIdSchema })) {}

export class EnterDrawBody extends ZodDto(z.strictObject({ githubId: githubIdSchema })) {}

/** The `:name` of a draw page's asset (a file of the pages' own directory). */
export class AssetParams extends ZodDto(
  z.strictObject({ name: z.string().regex(/^[a-z0-9.-]{1,64}$/, 'is not an asset name') }),
) {}
