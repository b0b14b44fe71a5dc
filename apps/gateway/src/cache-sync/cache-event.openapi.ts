import { z } from 'zod';
import { MAX_TTL_SECONDS } from '@lattice/cache';
import { cacheEventParts } from './cache-event.schema';
import type { CacheEventResult } from './cache-sync.service';

const { envelope, setData, getData, deleteData, patternData } = cacheEventParts;

/** `ttl` is parsed by a transform (number or numeric string), which JSON Schema cannot show by itself. */
const ttl = envelope.shape.value.shape.ttl.meta({
  description: `Seconds, above 0 and at most ${MAX_TTL_SECONDS}, as a number or a numeric string`,
  anyOf: [
    { type: 'number', exclusiveMinimum: true, minimum: 0, maximum: MAX_TTL_SECONDS },
    { type: 'string', pattern: '^\\d{1,12}(\\.\\d{1,6})?$' },
  ],
});

const event = (type: string, data: z.ZodType, description: string) =>
  z
    .strictObject({ key: z.literal(type), value: z.strictObject({ data, ttl }) })
    .describe(description);

/**
 * A cache-sync event (CONTRACT 6) as the OpenAPI document shows it: one
 * branch per type, made of the very schemas parseCacheEvent applies. Rules
 * across fields (exactly one of `value` and `url`, of `keys` and `key`) are
 * in the descriptions.
 */
export const cacheEventDocumentSchema = z.union([
  event(
    'SET',
    setData.describe('Exactly one of `value` (any JSON) and `url` (fetched, then stored)'),
    'Store a value: `{ key, stored: true }`',
  ),
  event('GET', getData, 'Read a value: `{ key, hit, value }`'),
  event(
    'DELETE',
    deleteData.describe('Exactly one of `keys` and `key`'),
    'Delete keys: `{ deleted }`',
  ),
  event('DELETE_PATTERN', patternData, 'Delete the keys matching a Redis glob: `{ deleted }`'),
]);

/** What an event answers, by type. */
export const cacheEventResultSchema = z.union([
  z.object({ key: z.string(), stored: z.literal(true) }).describe('SET'),
  z
    .object({
      key: z.string(),
      hit: z.boolean(),
      value: z.unknown().describe('The value, or null on a miss'),
      encoding: z.literal('base64').optional().describe('Set when the value is bytes'),
    })
    .describe('GET'),
  z.object({ deleted: z.number().int().nonnegative() }).describe('DELETE and DELETE_PATTERN'),
]) satisfies z.ZodType<CacheEventResult>;
