import { z } from 'zod';
import { cacheKeyProblem, cachePatternProblem, MAX_TTL_SECONDS } from '@lattice/cache';
import { JSON_DEPTH_RULE, jsonValueTooDeep } from '@lattice/common';
import { zodIssues } from '@lattice/api';
import { parseRoutes } from '@lattice/config';
import { ROUTE_TABLE_KEY } from '../proxy/route.table';
import { EVENT_TYPES, MAX_DELETE_KEYS } from './cache-sync.constants';
import { InvalidEventError } from './cache-sync.errors';

/** A validated cache-sync event (CONTRACT 6). `ttl` is in seconds. */
export type CacheEvent =
  | { type: 'SET'; key: string; value: unknown; ttl?: number }
  | { type: 'SET'; key: string; url: string; ttl?: number }
  | { type: 'GET'; key: string }
  | { type: 'DELETE'; keys: string[] }
  | { type: 'DELETE_PATTERN'; pattern: string };

const key = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  const problem = cacheKeyProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const pattern = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  const problem = cachePatternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A message for a value of the wrong type only; other problems (unknown keys) keep zod's own. */
const typeError = (message: string) => ({
  error: (issue: { code?: string }) => (issue.code === 'invalid_type' ? message : undefined),
});

const TTL_RULE = `must be a number of seconds above 0 and at most ${MAX_TTL_SECONDS}, as a number or a numeric string`;

/** A number, or a string of digits with an optional fraction ("60", "0.5"); nothing else. */
const ttl = z.unknown().transform((raw, ctx) => {
  const seconds =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && /^\d{1,12}(\.\d{1,6})?$/.test(raw)
        ? Number(raw)
        : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TTL_SECONDS) {
    ctx.addIssue({ code: 'custom', message: TTL_RULE });
    return z.NEVER;
  }
  return seconds;
});

const envelope = z.strictObject(
  {
    key: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }),
    value: z
      .strictObject(
        { data: z.unknown().optional(), ttl: ttl.optional() },
        typeError('must be an object { data, ttl? }'),
      )
      .superRefine((value, ctx) => {
        if (value.data === undefined || value.data === null) {
          ctx.addIssue({ code: 'custom', path: ['data'], message: 'is missing' });
        }
      }),
  },
  typeError('must be a JSON object { key, value: { data, ttl? } }'),
);

const setData = z
  .strictObject(
    { key, value: z.json().optional(), url: z.string({ error: 'must be a string' }).optional() },
    typeError('must be an object { key, value } or { key, url }'),
  )
  .superRefine((data, ctx) => {
    const hasValue = 'value' in data && data.value !== undefined;
    const hasUrl = data.url !== undefined;
    if (hasValue === hasUrl) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of value and url' });
    }
  });

const getData = z.strictObject({ key }, typeError('must be an object { key }'));

const deleteData = z
  .strictObject(
    {
      key: key.optional(),
      keys: z
        .array(key, { error: 'must be an array of keys' })
        .min(1, { error: 'must name at least one key' })
        .max(MAX_DELETE_KEYS, { error: `may name at most ${MAX_DELETE_KEYS} keys` })
        .optional(),
    },
    typeError('must be an object { keys } or { key }'),
  )
  .superRefine((data, ctx) => {
    if ((data.key === undefined) === (data.keys === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of keys and key' });
    }
  });

const patternData = z.strictObject({ pattern }, typeError('must be an object { pattern }'));

/**
 * A SET of the gateway's route table: an inline value that is a valid route
 * table (as ROUTES), kept until replaced or deleted unless a ttl is given.
 */
function routeTableEvent(data: { value?: unknown; url?: string }, ttl?: number): CacheEvent {
  const at = `value.data.value`;
  if (data.url !== undefined) {
    throw new InvalidEventError([
      { path: 'value.data.url', message: `the route table (${ROUTE_TABLE_KEY}) must be inline` },
    ]);
  }
  const parsed = parseRoutes(JSON.stringify(data.value));
  if (!parsed.ok) {
    throw new InvalidEventError(parsed.errors.map((message) => ({ path: at, message })));
  }
  return { type: 'SET', key: ROUTE_TABLE_KEY, value: data.value, ttl: ttl ?? MAX_TTL_SECONDS };
}

/** The event in `input`, or InvalidEventError (400 INVALID_EVENT) saying every reason it is not one. */
export function parseCacheEvent(input: unknown): CacheEvent {
  // Before zod, whose checks (z.json) recurse: a value nested thousands deep would overflow the stack.
  if (jsonValueTooDeep(input)) {
    throw new InvalidEventError([{ path: '(root)', message: `the event ${JSON_DEPTH_RULE}` }]);
  }
  const outer = envelope.safeParse(input);
  if (!outer.success) throw new InvalidEventError(zodIssues(outer.error, []));
  const { key: type, value } = outer.data;
  const at = ['value', 'data'];
  switch (type) {
    case 'SET': {
      const data = setData.safeParse(value.data);
      if (!data.success) throw new InvalidEventError(zodIssues(data.error, at));
      const base = value.ttl === undefined ? {} : { ttl: value.ttl };
      if (data.data.key === ROUTE_TABLE_KEY) return routeTableEvent(data.data, value.ttl);
      return data.data.url !== undefined
        ? { type, key: data.data.key, url: data.data.url, ...base }
        : { type, key: data.data.key, value: data.data.value, ...base };
    }
    case 'GET': {
      const data = getData.safeParse(value.data);
      if (!data.success) throw new InvalidEventError(zodIssues(data.error, at));
      return { type, key: data.data.key };
    }
    case 'DELETE': {
      const data = deleteData.safeParse(value.data);
      if (!data.success) throw new InvalidEventError(zodIssues(data.error, at));
      return { type, keys: data.data.keys ?? [data.data.key!] };
    }
    case 'DELETE_PATTERN': {
      const data = patternData.safeParse(value.data);
      if (!data.success) throw new InvalidEventError(zodIssues(data.error, at));
      return { type, pattern: data.data.pattern };
    }
  }
}

/** The schemas parseCacheEvent applies, for the OpenAPI description (cache-event.openapi.ts). */
export const cacheEventParts = { envelope, setData, getData, deleteData, patternData } as const;
