import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/** Which side of a schema to describe: what a client sends (`input`) or what it gets back (`output`). */
export type SchemaSide = 'input' | 'output';

type Json = Record<string, unknown>;

const DEFINITIONS = ['definitions', '$defs'] as const;
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The OpenAPI 3.0 schema object of a zod schema, from zod's own converter
 * (`z.toJSONSchema`), so a route's documentation is the schema that validates
 * it. Requests are described on their `input` side (before transforms and
 * defaults), answers on their `output` side. The result is self-contained:
 * definitions zod extracts (recursive or reused schemas) are inlined, a
 * recursion becoming "any value" at its second level, and the noise a reader
 * does not need (zod's pattern behind a `format`, the ±2^53 bounds of
 * `.int()`) is dropped. Parts JSON Schema cannot say (refinements, transforms)
 * become `{}`: give them a `.describe()` or `.meta({...})` where it matters.
 */
export function toOpenApiSchema(schema: z.ZodType, side: SchemaSide = 'output'): SchemaObject {
  const raw = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: side,
    unrepresentable: 'any',
  }) as Json;
  const definitions: Json = {};
  for (const key of DEFINITIONS) {
    if (isObject(raw[key])) Object.assign(definitions, raw[key]);
    delete raw[key];
  }
  delete raw.$schema;
  return tidy(inline(raw, definitions, [])) as SchemaObject;
}

function inline(node: unknown, definitions: Json, expanding: string[]): unknown {
  if (Array.isArray(node)) return node.map((item) => inline(item, definitions, expanding));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    const name = /^#\/(?:definitions|\$defs)\/(.+)$/.exec(ref)?.[1];
    if (name !== undefined && isObject(definitions[name])) {
      const siblings = { ...node };
      delete siblings.$ref;
      const target = expanding.includes(name)
        ? {} // A recursion: its second level is "any value" rather than a dangling $ref.
        : inline(definitions[name], definitions, [...expanding, name]);
      return Object.keys(siblings).length
        ? { ...(inline(siblings, definitions, expanding) as Json), allOf: [target] }
        : target;
    }
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) out[key] = inline(value, definitions, expanding);
  return out;
}

function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) out[key] = tidy(value);
  if (typeof out.format === 'string' && typeof out.pattern === 'string') delete out.pattern;
  if (out.type === 'integer') {
    for (const bound of ['minimum', 'maximum'] as const) {
      if (typeof out[bound] === 'number' && SAFE_INTEGER_BOUNDS.has(out[bound])) delete out[bound];
    }
  }
  // `allOf` of a single schema, with nothing beside it, is that schema.
  const allOf = out.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0])) {
    const rest = { ...out };
    delete rest.allOf;
    const only = allOf[0];
    const clash = Object.keys(rest).some((key) => key in only);
    if (!clash) return { ...only, ...rest };
  }
  return out;
}
