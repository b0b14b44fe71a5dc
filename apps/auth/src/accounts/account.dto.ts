import { z } from 'zod';
import { DISPLAY_TEXT_RULE, isSafeDisplayText } from '@lattice/common';
import { ZodDto } from '@lattice/api';
import type { UserProfile } from './account.types';
import type { SessionListItem, SessionView } from './session-view';

const login = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,32}$/, 'must be 3 to 32 characters of a-z A-Z 0-9 _ . -');
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters');

/** The password rule of registration (8 to 128 characters), for every new password. */
export const passwordRule = password;

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine(isSafeDisplayText, DISPLAY_TEXT_RULE);
/** A password the caller already has: any string up to the longest valid one. */
export const givenPassword = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters');

export class RegisterBody extends ZodDto(z.strictObject({ login, name, password })) {}

export class ProfileBody extends ZodDto(z.strictObject({ name })) {}

export class ChangePasswordBody extends ZodDto(
  z.strictObject({ currentPassword: givenPassword, newPassword: password }),
) {}

/** A TOTP code (6 digits) or a recovery code (`xxxxx-xxxxx`). */
export const mfaCode = z
  .string()
  .trim()
  .regex(/^(\d{6}|[A-Za-z0-9]{5}-[A-Za-z0-9]{5})$/, 'must be a 6-digit code or a recovery code');

export class DeleteAccountBody extends ZodDto(
  z.strictObject({ password: givenPassword, code: mfaCode.optional() }),
) {}

export class LoginBody extends ZodDto(
  z.strictObject({
    // Any string up to the longest valid login: a malformed one simply fails like an unknown one.
    login: z.string().min(1, 'must not be empty').max(32, 'must be at most 32 characters'),
    password: givenPassword,
  }),
) {}

export class LogoutAllBody extends ZodDto(
  z.preprocess((body) => body ?? {}, z.strictObject({ keepCurrent: z.boolean().optional() })),
) {}

export class SessionIdParams extends ZodDto(z.strictObject({ id: z.string().min(1).max(64) })) {}

export class UserIdParams extends ZodDto(
  z.strictObject({ userId: z.string().regex(/^[1-9][0-9]{0,15}$/, 'must be a user id') }),
) {}

export class UserSessionParams extends ZodDto(
  z.strictObject({
    userId: z.string().regex(/^[1-9][0-9]{0,15}$/, 'must be a user id'),
    id: z.string().min(1).max(64),
  }),
) {}

// Answers, for the OpenAPI document (ApiAnswer). `satisfies` keeps each one in
// step with the type the handler returns.

const count = z.number().int().nonnegative();

export const userProfileSchema = z.object({
  id: z.string().describe('The user id (decimal digits)'),
  login: z.string(),
  name: z.string(),
  roles: z.array(z.string()).describe('For example ["admin"]'),
  signup: z.iso.datetime().describe('When the account was created'),
  followers: count,
  following: count,
  posts: count,
}) satisfies z.ZodType<UserProfile>;

export const registeredUserSchema = userProfileSchema.pick({
  id: true,
  login: true,
  name: true,
  signup: true,
}) satisfies z.ZodType<Pick<UserProfile, 'id' | 'login' | 'name' | 'signup'>>;

export const sessionViewSchema = z.object({
  id: z.string(),
  createdAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
  expiresAt: z.iso
    .datetime()
    .describe(
      'When the session ends if unused: the idle expiry, never later than the absolute one',
    ),
}) satisfies z.ZodType<SessionView>;

export const sessionListSchema = z.array(
  sessionViewSchema.extend({
    ip: z.string(),
    userAgent: z.string(),
    current: z.boolean().describe('Whether this is the session of the request'),
  }),
) satisfies z.ZodType<SessionListItem[]>;

export const loginAnswerSchema = z.object({
  token: z.string().describe('The session token, also set as the sid cookie'),
  user: userProfileSchema,
  session: sessionViewSchema,
}) satisfies z.ZodType<{ token: string; user: UserProfile; session: SessionView }>;

export const mfaChallengeSchema = z.object({
  mfaRequired: z.literal(true),
  challenge: z.string().describe('Give it to POST /auth/login/mfa with a code'),
  expiresAt: z.string().describe('ISO 8601; at most 5 minutes away'),
}) satisfies z.ZodType<{ mfaRequired: true; challenge: string; expiresAt: string }>;

export const currentSessionSchema = z.object({
  user: userProfileSchema,
  session: sessionViewSchema,
}) satisfies z.ZodType<{ user: UserProfile; session: SessionView }>;
