import { z } from 'zod';
import { ZodDto } from '@lattice/api';
import { givenPassword, mfaCode } from '../accounts/account.dto';

export class ConfirmTotpBody extends ZodDto(
  z.strictObject({
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'must be a 6-digit code'),
  }),
) {}

export class DisableTotpBody extends ZodDto(
  z.strictObject({ password: givenPassword, code: mfaCode }),
) {}

export class LoginMfaBody extends ZodDto(
  z.strictObject({
    challenge: z.string().min(1, 'must not be empty').max(128, 'is too long'),
    code: mfaCode,
  }),
) {}

export const enrolmentSchema = z.object({
  secret: z.string().describe('The shared secret, base32, for manual entry'),
  otpauthUri: z.string().describe('otpauth://totp/… for authenticator apps'),
  qrSvg: z.string().describe('The URI as a QR code, an SVG document'),
});

export const recoveryCodesSchema = z.object({
  recoveryCodes: z
    .array(z.string())
    .describe('Ten single-use codes, shown this once; each signs in in place of a TOTP code'),
});
