import { z } from 'zod';
import { ZodDto } from '@lattice/api';
import {
  MAX_FACTOR,
  MAX_LIMIT,
  MAX_SELECTOR_LENGTH,
  OVERRIDE_SELECTOR,
  POLICY_NAME,
} from '@lattice/rate-limit';

export class OverrideParams extends ZodDto(
  z.strictObject({
    policy: z.string().regex(POLICY_NAME, 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -'),
    selector: z
      .string()
      .max(MAX_SELECTOR_LENGTH, `must be at most ${MAX_SELECTOR_LENGTH} characters`)
      .regex(OVERRIDE_SELECTOR, 'must be user:<id>, role:<role> or key:<counted key>'),
  }),
) {}

export class OverrideBody extends ZodDto(
  z
    .strictObject({
      limit: z
        .number({ message: 'must be a whole number' })
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`)
        .optional()
        .describe('The limit itself, or ...'),
      factor: z
        .number({ message: 'must be a number' })
        .min(1 / MAX_FACTOR, `must be at least ${1 / MAX_FACTOR}`)
        .max(MAX_FACTOR, `must be at most ${MAX_FACTOR}`)
        .optional()
        .describe('... a multiple of the declared limit (rounded, at least 1)'),
    })
    .refine((body) => (body.limit === undefined) !== (body.factor === undefined), {
      message: 'give either limit or factor, not both',
    }),
) {}
