import { DECORATORS, type SchemaObject } from '@nestjs/swagger';
import type { z } from 'zod';
import { toOpenApiSchema } from './zod-to-openapi';

/**
 * The static method through which @nestjs/swagger asks a class for its
 * properties (the hook its CLI plugin writes). It is called only while a
 * document is built, so apps that serve no document never convert a schema.
 */
const METADATA_FACTORY = '_OPENAPI_METADATA_FACTORY';

interface PropertyMetadata {
  /** Swagger wants a type on every property; only `schema` reaches the document. */
  type: string;
  required: boolean;
  description?: string;
  schema: SchemaObject;
}

/**
 * Lets @nestjs/swagger describe a ZodDto class from its zod schema (input side):
 *
 * - as `@Param()` or `@Query()`, each top-level property becomes one
 *   parameter with its own schema and `required` flag;
 * - as `@Body()`, the class becomes a component schema (named after the
 *   class) equal to the zod schema's: swagger builds the object from the
 *   properties, then spreads the class's extension keywords over it, which
 *   here are the whole schema (`properties`, `required`,
 *   `additionalProperties: false` for strict objects, or any other shape).
 */
export function describeZodDto(dto: object, schema: z.ZodType): void {
  let json: SchemaObject | undefined;
  Object.defineProperty(dto, METADATA_FACTORY, {
    value: (): Record<string, PropertyMetadata> => {
      json ??= toOpenApiSchema(schema, 'input');
      if (!Reflect.hasOwnMetadata(DECORATORS.API_EXTENSION, dto)) {
        // `type` and `properties` are set even when undefined: they replace swagger's defaults.
        const whole = { ...json, type: json.type, properties: json.properties };
        Reflect.defineMetadata(DECORATORS.API_EXTENSION, whole, dto);
      }
      return propertiesOf(json);
    },
  });
}

function propertiesOf(json: SchemaObject): Record<string, PropertyMetadata> {
  const required = new Set(json.required ?? []);
  const out: Record<string, PropertyMetadata> = {};
  for (const [name, property] of Object.entries(json.properties ?? {})) {
    const schema = property as SchemaObject;
    out[name] = {
      type: typeof schema.type === 'string' ? schema.type : 'object',
      required: required.has(name),
      ...(schema.description === undefined ? {} : { description: schema.description }),
      schema,
    };
  }
  return out;
}
