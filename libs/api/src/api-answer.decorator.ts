import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import type { z } from 'zod';
import type { ZodDtoClass } from './zod-dto';
import { toOpenApiSchema } from './zod-to-openapi';

/** A zod schema (its output side is documented), a schema object as is, or a ZodDto class (a component). */
export type AnswerBody = z.ZodType | SchemaObject | ZodDtoClass;

export interface ApiAnswerOptions {
  /** Another media type than `application/json` (the body schema then describes that). */
  contentType?: string;
  /** Response headers worth knowing, by name. */
  headers?: Record<string, { description: string; schema?: SchemaObject }>;
}

const isZodSchema = (value: unknown): value is z.ZodType =>
  typeof value === 'object' &&
  value !== null &&
  '_zod' in value &&
  typeof (value as { safeParse?: unknown }).safeParse === 'function';

/**
 * A successful answer of a route: `@ApiAnswer(200, userSchema, 'The user')`,
 * or `@ApiAnswer(204, null, 'Signed out')` for an answer without a body.
 * With a zod schema, the document shows what that schema produces, so the
 * code that shapes the answer and its documentation share one definition.
 */
export function ApiAnswer(
  status: number,
  body: AnswerBody | null,
  description: string,
  options: ApiAnswerOptions = {},
): MethodDecorator & ClassDecorator {
  const headers = options.headers ? { headers: options.headers } : {};
  if (body === null) return ApiResponse({ status, description, ...headers });
  if (typeof body === 'function')
    return ApiResponse({ status, description, type: body, ...headers });
  const schema = isZodSchema(body) ? toOpenApiSchema(body, 'output') : body;
  if (options.contentType) {
    return ApiResponse({
      status,
      description,
      content: { [options.contentType]: { schema } },
      ...headers,
    });
  }
  return ApiResponse({ status, description, schema, ...headers });
}

/**
 * The request body of a route that validates it itself rather than through a
 * ZodDto parameter (the input side of `schema` is documented). Routes whose
 * `@Body()` is a ZodDto need nothing: swagger reads the class.
 */
export function ApiZodBody(
  schema: z.ZodType,
  options: { description?: string; required?: boolean } = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiBody({
      schema: toOpenApiSchema(schema, 'input'),
      required: options.required ?? true,
      ...(options.description ? { description: options.description } : {}),
    }),
  );
}
