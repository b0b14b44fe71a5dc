import { z } from 'zod';
import { ZodDto } from '@lattice/http';

const login = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,32}$/, 'must be 3 to 32 characters of a-z A-Z 0-9 _ . -');
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters');

export class RegisterBody extends ZodDto(
  z.strictObject({
    login,
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    password,
  }),
) {}

export class LoginBody extends ZodDto(
  z.strictObject({
    // Any string up to the longest valid login: a malformed one simply fails like an unknown one.
    login: z.string().min(1, 'must not be empty').max(32, 'must be at most 32 characters'),
    password: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
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
