import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  encodeValue,
  parseRecord,
  recordOf,
  serializeRecord,
  type CacheRecord,
} from './cache-record';
import type { WriteSettings } from './cache-load.types';

/**
 * Records as this instance writes and reads them: values stamped with
 * versions unique across instances, and raw strings from Redis read back.
 */
export class RecordCodec {
  private readonly logger = new Logger('Cache');
  /** Versions are this instance's random prefix plus a counter: unique without a random draw per write. */
  private readonly versionPrefix = randomBytes(6).toString('base64url');
  private writes = 0;

  /**
   * `value` as a record of `write`'s lifetime, stamped with a new version:
   * `raw` for Redis, `record` for L1, `pxMs` for Redis's expiry.
   */
  prepare(
    key: string,
    value: unknown,
    write: WriteSettings,
  ): { raw: string; record: CacheRecord; pxMs: number } {
    const { kind, payload } = encodeValue(value);
    const freshUntil = Date.now() + write.ttlMs;
    const staleUntil = freshUntil + write.graceMs;
    const version = `${this.versionPrefix}${(++this.writes).toString(36)}`;
    return {
      raw: serializeRecord(kind, freshUntil, staleUntil, version, payload),
      record: recordOf(kind, payload, freshUntil, staleUntil, version, key),
      pxMs: write.ttlMs + write.graceMs,
    };
  }

  /** The record `raw` holds, or null (logged) when the cache did not write it. */
  parse(raw: string, key: string): CacheRecord | null {
    const record = parseRecord(raw, key);
    if (record === null)
      this.logger.warn(`"${key}" holds a value the cache did not write; treated as absent`);
    return record;
  }
}
