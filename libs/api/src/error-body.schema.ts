import { ApiSchema } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodDto } from './zod-dto';

/** The contract's error body (CONTRACT 3): what every error answer of every app carries. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  requestId: string;
  details?: unknown;
}

/** The error body as a zod schema, as GlobalExceptionFilter writes it (`toErrorBody`, @lattice/http). */
export const errorBodySchema = z.object({
  statusCode: z.number().int().min(400).max(599).describe('The HTTP status, repeated'),
  code: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/)
    .describe(
      'Stable UPPER_SNAKE code: VALIDATION_FAILED, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, RATE_LIMITED, UNAVAILABLE, ...',
    ),
  message: z.string().describe('What went wrong, for people; never internals'),
  requestId: z.string().describe('The X-Request-Id of the request, for support and logs'),
  details: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional()
    .describe('Validation errors only: one entry per problem'),
}) satisfies z.ZodType<ErrorBody>;

/** The `ErrorBody` component every documented error answer refers to. */
@ApiSchema({ name: 'ErrorBody', description: 'The body of every error answer (CONTRACT 3)' })
export class ErrorBodyModel extends ZodDto(errorBodySchema) {}
