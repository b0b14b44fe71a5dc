import { z } from 'zod';
import { toOpenApiSchema } from './zod-to-openapi';

describe('toOpenApiSchema', () => {
  it('closes strict objects and lists their required fields', () => {
    const schema = z.strictObject({ login: z.string().min(3), note: z.string().optional() });
    expect(toOpenApiSchema(schema, 'input')).toEqual({
      type: 'object',
      properties: { login: { type: 'string', minLength: 3 }, note: { type: 'string' } },
      required: ['login'],
      additionalProperties: false,
    });
  });

  it('describes the input side of a request and the output side of an answer', () => {
    const schema = z.object({ n: z.string().default('x') });
    expect(toOpenApiSchema(schema, 'input').required).toBeUndefined();
    expect(toOpenApiSchema(schema, 'output').required).toEqual(['n']);
  });

  it('writes OpenAPI 3.0: nullable rather than a null type', () => {
    expect(toOpenApiSchema(z.string().nullable())).toEqual({ type: 'string', nullable: true });
  });

  it('inlines recursive definitions, a recursion becoming any value', () => {
    const json = toOpenApiSchema(z.object({ value: z.json() }), 'input');
    const text = JSON.stringify(json);
    expect(text).not.toContain('$ref');
    expect(text).not.toContain('definitions');
    const value = json.properties!.value as { anyOf: { type?: string; items?: unknown }[] };
    expect(value.anyOf).toContainEqual({ type: 'array', items: {} });
  });

  it("drops zod's pattern behind a format and the safe-integer bounds of int()", () => {
    expect(toOpenApiSchema(z.iso.datetime())).toEqual({ type: 'string', format: 'date-time' });
    expect(toOpenApiSchema(z.number().int())).toEqual({ type: 'integer' });
    expect(toOpenApiSchema(z.number().int().min(1).max(9))).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 9,
    });
  });

  it('keeps descriptions and JSON Schema keywords given through meta', () => {
    const schema = z.unknown().transform(Number).meta({ description: 'seconds', type: 'number' });
    expect(toOpenApiSchema(schema, 'input')).toEqual({ description: 'seconds', type: 'number' });
  });
});
