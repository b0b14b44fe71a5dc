import { z } from 'zod';
import { ZodDto } from '@lattice/api';
import { passwordRule } from '../accounts/account.dto';

export class PasswordResetBody extends ZodDto(
  z.strictObject({
    // Any string up to well past a real token's length: a malformed one fails like an unknown one.
    token: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
    newPassword: passwordRule,
  }),
) {}

export const passwordResetTicketSchema = z.object({
  token: z.string().describe('The reset token: shown this once, stored only as a hash'),
  expiresAt: z.iso.datetime().describe('When the token stops working'),
}) satisfies z.ZodType<{ token: string; expiresAt: string }>;
