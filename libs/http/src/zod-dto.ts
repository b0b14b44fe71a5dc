import type { z } from 'zod';

/** A class carrying a zod schema, so a route's parameter type also says how to validate it. */
export interface ZodDtoClass<T extends z.ZodType = z.ZodType> {
  new (): z.infer<T>;
  readonly schema: T;
}

/**
 * `class RegisterBody extends ZodDto(registerSchema) {}` gives a type for the
 * handler and a schema for the global validation pipe. Use strict objects, so
 * unknown fields are refused.
 */
export function ZodDto<T extends z.ZodType>(schema: T): ZodDtoClass<T> {
  class Dto {
    static readonly schema = schema;
  }
  return Dto as unknown as ZodDtoClass<T>;
}
