import { z } from 'zod';
import { ZodDto } from '@lattice/api';
import { userProfileSchema } from '../accounts/account.dto';
import type { AdminUserView, UserPage } from './admin.types';

/** A role name: 1 to 32 of `a-z 0-9 _ -`, starting with a letter. */
const role = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be 1 to 32 characters of a-z 0-9 _ -, from a letter');

export const MAX_PAGE = 100;
const DEFAULT_PAGE = 20;

export class ListUsersQuery extends ZodDto(
  z.strictObject({
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{0,32}$/, 'must be up to 32 characters of a-z A-Z 0-9 _ . -')
      .optional()
      .describe('Only logins starting with this, ignoring case'),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a nextCursor from an earlier answer')
      .optional()
      .describe('The `nextCursor` of the previous page'),
    limit: z.coerce
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_PAGE, `must be at most ${MAX_PAGE}`)
      .default(DEFAULT_PAGE)
      .describe(`Users per page, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})`),
  }),
) {}

export class RolesBody extends ZodDto(
  z.strictObject({
    roles: z.array(role).max(16, 'must hold at most 16 roles').describe('Replaces every role'),
  }),
) {}

// Answers, for the OpenAPI document.

export const adminUserSchema = userProfileSchema.extend({
  suspended: z.boolean().describe('Suspended accounts cannot sign in'),
}) satisfies z.ZodType<AdminUserView>;

export const userPageSchema = z.object({
  users: z.array(adminUserSchema).describe('In order of lower-cased login'),
  nextCursor: z
    .string()
    .nullable()
    .describe('Pass as `cursor` for the next page; null on the last one'),
}) satisfies z.ZodType<UserPage>;
