import { z } from 'zod';

/**
 * Parsers for single environment variables. Each takes the raw string (empty
 * counts as unset) and either returns a typed value or fails with a message
 * that follows the variable's name: "PORT: must be ...".
 */

const unset = (v: unknown): unknown => (v === '' ? undefined : v);

export const withDefault = <T extends z.ZodType<unknown, string>>(schema: T, fallback: string) =>
  z.preprocess(unset, z.string().default(fallback).pipe(schema));

export const optional = <T extends z.ZodType<unknown, string>>(schema: T) =>
  z.preprocess(unset, z.string().pipe(schema).optional());

export const integer = (min: number, max: number) =>
  z.string().transform((raw, ctx) => {
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

export const boolean = () =>
  z.string().transform((raw, ctx) => {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    ctx.addIssue({ code: 'custom', message: 'must be "true" or "false"' });
    return z.NEVER;
  });

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.string().transform((raw, ctx) => {
    if ((values as readonly string[]).includes(raw)) return raw as T[number];
    ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}` });
    return z.NEVER;
  });

export const url = (protocols: readonly string[]) =>
  z.string().transform((raw, ctx) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !protocols.includes(parsed.protocol.slice(0, -1)) || !parsed.hostname) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`,
      });
      return z.NEVER;
    }
    return raw;
  });

/**
 * A comma list of at least `min` distinct URLs with the given protocols, for
 * variables that name several independent servers at once.
 */
export const urlList = (protocols: readonly string[], min: number) =>
  z.string().transform((raw, ctx) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const parsed = items.map((item) => (URL.canParse(item) ? new URL(item) : undefined));
    const valid = parsed.every(
      (u) => u !== undefined && protocols.includes(u.protocol.slice(0, -1)) && u.hostname !== '',
    );
    const distinct = new Set(parsed.map((u) => u?.href)).size === items.length;
    if (!valid || !distinct || items.length < min) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a comma-separated list of at least ${min} distinct URLs starting with ${protocols.map((p) => `${p}://`).join(' or ')}`,
      });
      return z.NEVER;
    }
    return items;
  });

export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

export function parseHostPort(raw: string): HostPort | undefined {
  const match = HOST_PORT.exec(raw.trim());
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

export const hostPortList = () =>
  z.string().transform((raw, ctx) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const parsed = items.map(parseHostPort);
    if (items.length === 0 || parsed.some((p) => !p)) {
      ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of host:port' });
      return z.NEVER;
    }
    return parsed as HostPort[];
  });

export const list = (item: RegExp, description: string) =>
  z.string().transform((raw, ctx) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.some((i) => !item.test(i))) {
      ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${description}` });
      return z.NEVER;
    }
    return items;
  });

export interface RatePolicy {
  limit: number;
  windowSeconds: number;
}

export function parseRatePolicy(raw: string): RatePolicy | undefined {
  const match = /^(\d{1,9})\/(\d{1,7})$/.exec(raw.trim());
  if (!match) return undefined;
  const limit = Number(match[1]);
  const windowSeconds = Number(match[2]);
  if (limit < 1 || windowSeconds < 1) return undefined;
  return { limit, windowSeconds };
}

export const ratePolicy = () =>
  z.string().transform((raw, ctx) => {
    const policy = parseRatePolicy(raw);
    if (!policy) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be "limit/windowSeconds" with two positive integers, like 600/60',
      });
      return z.NEVER;
    }
    return policy;
  });

/**
 * An http(s) origin: scheme, host and optional port, nothing after (a
 * trailing `/` is allowed and dropped). Returned in URL's normal form.
 */
export const origin = () =>
  z.string().transform((raw, ctx) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      parsed = undefined;
    }
    const bare =
      parsed !== undefined &&
      ['http:', 'https:'].includes(parsed.protocol) &&
      parsed.hostname !== '' &&
      parsed.username === '' &&
      parsed.password === '' &&
      parsed.pathname === '/' &&
      parsed.search === '' &&
      parsed.hash === '' &&
      !raw.endsWith('?') &&
      !raw.endsWith('#');
    if (!bare) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an http:// or https:// URL with a host, an optional port and no path',
      });
      return z.NEVER;
    }
    return parsed!.origin;
  });
