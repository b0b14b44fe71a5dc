import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorBodyModel } from './error-body.schema';

/** What a status means wherever it is not said more precisely (ApiError). */
const DEFAULT_ERRORS: Record<number, { code: string; description: string }> = {
  400: {
    code: 'VALIDATION_FAILED',
    description:
      'the body, path or query string does not match its schema; `details` lists each problem (MALFORMED_JSON for a body that is not JSON)',
  },
  401: {
    code: 'UNAUTHENTICATED',
    description:
      'no valid session: sign in, then send the `sid` cookie or `Authorization: Bearer <token>`',
  },
  403: { code: 'FORBIDDEN', description: 'the caller may not do this' },
  404: { code: 'NOT_FOUND', description: 'no such resource' },
  409: { code: 'CONFLICT', description: 'the resource already exists' },
  413: { code: 'PAYLOAD_TOO_LARGE', description: 'the body is larger than 1 MiB' },
  429: {
    code: 'RATE_LIMITED',
    description: 'too many requests; `Retry-After` says how many seconds to wait',
  },
  502: { code: 'BAD_GATEWAY', description: 'an upstream failed' },
  503: { code: 'UNAVAILABLE', description: 'a dependency is unreachable; try again shortly' },
  504: { code: 'GATEWAY_TIMEOUT', description: 'an upstream did not answer in time' },
};

const RATE_LIMIT_HEADERS = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer' },
  },
  RateLimit: {
    description: 'Remaining quota, e.g. `"ip";r=0;t=57` (draft-ietf-httpapi-ratelimit-headers)',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': {
    description: 'The limit that applies, e.g. `"ip";q=600;w=60`',
    schema: { type: 'string' },
  },
} as const;

const EXAMPLE_REQUEST_ID = '9b2d6c1e-3f4a-4b8e-9c7d-2a1f0e5d4c3b';

/** An example body: what the answer looks like (the message is a paraphrase). */
function example(status: number, code: string, description: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    statusCode: status,
    code,
    message: description.charAt(0).toUpperCase() + description.slice(1).replace(/`/g, ''),
    requestId: EXAMPLE_REQUEST_ID,
  };
  if (code === 'VALIDATION_FAILED') {
    body.message = 'Invalid request body: name: must not be empty';
    body.details = [{ path: 'name', message: 'must not be empty' }];
  }
  return body;
}

/**
 * One error answer of a route (or of every route of a controller) with the
 * contract's error body, saying which `code` it carries and when. Several for
 * the same status are listed together, each with its example.
 */
export function ApiError(
  status: number,
  code: string,
  description: string,
): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description: `\`${code}\`: ${description}`,
    type: ErrorBodyModel,
    examples: { [code]: { summary: code, value: example(status, code, description) } },
    ...(status === 429 ? { headers: RATE_LIMIT_HEADERS } : {}),
  });
}

/** Error answers with their usual code and meaning, e.g. `@ApiErrors(400, 404)`. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => {
      const known = DEFAULT_ERRORS[status];
      if (!known) throw new Error(`ApiErrors: no default meaning for ${status}; use ApiError`);
      return ApiError(status, known.code, known.description);
    }),
  );
}
