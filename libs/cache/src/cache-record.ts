import { InvalidCacheValueError } from './cache.errors';

/*
 * How an entry is stored in Redis: one string,
 *
 *   <kind><freshUntil>:<staleUntil>:<version>|<payload>
 *
 * kind `J` (payload is JSON) or `B` (payload is base64 bytes); freshUntil and
 * staleUntil are Unix milliseconds (the TTL, and the end of the grace period,
 * which is also the key's Redis expiry); version identifies this write, so a
 * loader's write can be made conditional on nothing having changed since it
 * read. One GET returns everything a reader needs.
 */

export type RecordKind = 'J' | 'B';

/** An entry as both tiers hold it. */
export interface CacheRecord {
  /** Decoded: a deeply frozen JSON value, or a Buffer. */
  value: unknown;
  kind: RecordKind;
  freshUntil: number;
  staleUntil: number;
  version: string;
  /** Approximate bytes it costs in process (serialized length). */
  size: number;
}

const HEADER = /^([JB])(\d{1,16}):(\d{1,16}):([A-Za-z0-9_-]{1,64})\|/;
/** Per-entry bookkeeping counted on top of the payload in L1's byte bound. */
const ENTRY_OVERHEAD = 64;

/** Freezes a freshly parsed JSON value, so no caller can change what others will read. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * The stored form of a value: bytes (Buffer or any Uint8Array) as base64,
 * everything else as JSON. The value read back is the JSON round trip (Dates
 * become strings, class instances plain objects), on every instance alike.
 */
export function encodeValue(value: unknown): { kind: RecordKind; payload: string } {
  if (value instanceof Uint8Array) {
    return {
      kind: 'B',
      payload: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    };
  }
  let payload: string | undefined;
  try {
    payload = JSON.stringify(value);
  } catch (error) {
    throw new InvalidCacheValueError(
      `The value cannot be stored as JSON: ${(error as Error).message}`,
    );
  }
  if (payload === undefined) {
    throw new InvalidCacheValueError(
      `A ${typeof value} cannot be stored; store null to cache an absence`,
    );
  }
  return { kind: 'J', payload };
}

export function serializeRecord(
  kind: RecordKind,
  freshUntil: number,
  staleUntil: number,
  version: string,
  payload: string,
): string {
  return `${kind}${freshUntil}:${staleUntil}:${version}|${payload}`;
}

function decodePayload(kind: RecordKind, payload: string): unknown {
  return kind === 'J' ? deepFreeze(JSON.parse(payload) as unknown) : Buffer.from(payload, 'base64');
}

/** Builds the in-process form of a record that was just encoded (no second serialization). */
export function recordOf(
  kind: RecordKind,
  payload: string,
  freshUntil: number,
  staleUntil: number,
  version: string,
  key: string,
): CacheRecord {
  return {
    value: decodePayload(kind, payload),
    kind,
    freshUntil,
    staleUntil,
    version,
    size: payload.length + key.length + ENTRY_OVERHEAD,
  };
}

/** The record in a Redis string, or null when the string is not one of ours (or corrupt). */
export function parseRecord(raw: string, key: string): CacheRecord | null {
  const header = HEADER.exec(raw);
  if (!header) return null;
  try {
    return recordOf(
      header[1] as RecordKind,
      raw.slice(header[0].length),
      Number(header[2]),
      Number(header[3]),
      header[4],
      key,
    );
  } catch {
    return null;
  }
}

/** The version a stored string carries, without decoding the payload. */
export function versionOf(raw: string): string | null {
  return HEADER.exec(raw)?.[4] ?? null;
}

/** What a caller gets: bytes are copied, so the cached Buffer cannot be changed through it. */
export function valueFor(record: CacheRecord): unknown {
  return record.kind === 'B' ? Buffer.from(record.value as Buffer) : record.value;
}
