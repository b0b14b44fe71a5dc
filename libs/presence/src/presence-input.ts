import { z } from 'zod';
import { MAX_JSON_DEPTH, jsonValueTooDeep } from '@lattice/common';

/** 1 to 100 of `a-z A-Z 0-9 : _ . -` (CONTRACT 5). */
export const CHANNEL_NAME = /^[A-Za-z0-9:_.-]{1,100}$/;
export const MAX_META_BYTES = 1024;

const USER_CHANNEL = /^user:(.*)$/;

/** The user a `user:<userId>` channel belongs to, or null for any other channel. */
export function userChannelOwner(channel: string): string | null {
  return USER_CHANNEL.exec(channel)?.[1] ?? null;
}

/** Whether `userId` may join (and read the presence of) `channel`. */
export function mayAccessChannel(channel: string, userId: string): boolean {
  const owner = userChannelOwner(channel);
  return owner === null || owner === userId;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isJsonShaped(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonShaped);
  if (isPlainObject(value)) return Object.values(value).every(isJsonShaped);
  return false;
}

/**
 * Whether a value is plain JSON (what JSON.parse can give back) nested at most
 * MAX_JSON_DEPTH levels. Socket.IO payloads may also carry binary attachments
 * (Buffers), which JSON would silently turn into something else. The depth is
 * checked first without recursing, so the walk below it stays shallow.
 */
export function isJsonValue(value: unknown): boolean {
  return !jsonValueTooDeep(value) && isJsonShaped(value);
}

/** Size in bytes of a value's JSON text. */
export const jsonBytes = (value: unknown): number =>
  Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

export const channelNameSchema = z
  .string()
  .regex(CHANNEL_NAME, 'must be 1 to 100 characters of a-z A-Z 0-9 : _ . -');

export const metaSchema = z.custom<Record<string, unknown>>(
  (value) => isPlainObject(value) && isJsonValue(value) && jsonBytes(value) <= MAX_META_BYTES,
  {
    message: `must be a JSON object of at most ${MAX_META_BYTES} bytes, nested at most ${MAX_JSON_DEPTH} levels`,
  },
);
