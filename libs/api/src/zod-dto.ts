import type { z } from 'zod';
import { describeZodDto } from './zod-dto.openapi';

/** A class carrying a zod schema, so a route's parameter type also says how to validate it. */
export interface ZodDtoClass<T extends z.ZodType = z.ZodType> {
  new (): z.infer<T>;
  readonly schema: T;
}

/**
 * `class RegisterBody extends ZodDto(registerSchema) {}` gives a type for the
 * handler, a schema for the global validation pipe, and the same schema to
 * @nestjs/swagger for the OpenAPI document. Use strict objects, so unknown
 * fields are refused (and documented as such).
 */
export function ZodDto<T extends z.ZodType>(schema: T): ZodDtoClass<T> {
  class Dto {
    static readonly schema = schema;
  }
  describeZodDto(Dto, schema);
  return Dto as unknown as ZodDtoClass<T>;
}
