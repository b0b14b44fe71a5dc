import { z } from 'zod';
import { parseRatePolicy, type RatePolicy } from './env.parsers';

/** Path prefixes the gateway serves itself; an upstream route may not shadow them. */
export const RESERVED_PREFIXES = [
  '/auth',
  '/realtime',
  '/socket.io',
  '/api',
  '/health',
  '/metrics',
  '/docs',
  '/draw',
];

/** Targets one route may list: enough for any real pool, small enough to scan per request. */
export const MAX_UPSTREAM_TARGETS = 32;

export interface UpstreamRoute {
  prefix: string;
  /** One URL, or the list of targets balanced across (the same service on several hosts). */
  upstream: string | string[];
  auth: 'required' | 'optional' | 'none';
  rateLimit?: RatePolicy;
}

const upstreamUrl = z
  .string()
  .refine((u) => /^https?:\/\/[^/]+/.test(u) && URL.canParse(u), 'must be an http or https URL');

const routeSchema = z.strictObject({
  prefix: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must look like /orders or /v1/orders')
    .refine(
      (p) => !RESERVED_PREFIXES.some((r) => p === r || p.startsWith(`${r}/`)),
      `must not start with a reserved path (${RESERVED_PREFIXES.join(', ')})`,
    ),
  upstream: z.union(
    [
      upstreamUrl,
      z
        .array(upstreamUrl)
        .min(1, 'must list at least one URL')
        .max(MAX_UPSTREAM_TARGETS, `must list at most ${MAX_UPSTREAM_TARGETS} URLs`)
        .refine((urls) => new Set(urls).size === urls.length, 'must not list a URL twice'),
    ],
    { error: 'must be an http or https URL, or a list of them' },
  ),
  auth: z.enum(['required', 'optional', 'none']),
  rateLimit: z
    .string()
    .transform((raw, ctx) => {
      const policy = parseRatePolicy(raw);
      if (!policy) {
        ctx.addIssue({ code: 'custom', message: 'must be "limit/windowSeconds"' });
        return z.NEVER;
      }
      return policy;
    })
    .optional(),
});

export const routesSchema = z
  .array(routeSchema)
  .refine(
    (routes) => new Set(routes.map((r) => r.prefix)).size === routes.length,
    'must not list a prefix twice',
  );

/** Parses a JSON route table, returning one message per problem instead of throwing. */
export function parseRoutes(
  json: string,
): { ok: true; routes: UpstreamRoute[] } | { ok: false; errors: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, errors: ['must be a JSON array of routes'] };
  }
  const result = routesSchema.safeParse(value);
  if (result.success) return { ok: true, routes: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((issue) => {
      const [index, ...field] = issue.path.map(String);
      const at =
        index === undefined ? '' : `route ${index}${field.length ? ` ${field.join('.')}` : ''}`;
      if (!at) return issue.message;
      return issue.message.startsWith('must')
        ? `${at} ${issue.message}`
        : `${at}: ${issue.message}`;
    }),
  };
}
