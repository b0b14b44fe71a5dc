import {
  encodeValue,
  parseRecord,
  recordOf,
  serializeRecord,
  valueFor,
  versionOf,
} from './cache-record';

describe('cache records', () => {
  it('round-trips JSON values as frozen copies', () => {
    const { kind, payload } = encodeValue({ a: [1, { b: 'c' }], when: new Date(0) });
    const raw = serializeRecord(kind, 1000, 2000, 'v1', payload);
    expect(raw).toBe('J1000:2000:v1|{"a":[1,{"b":"c"}],"when":"1970-01-01T00:00:00.000Z"}');
    const record = parseRecord(raw, 'k')!;
    expect(record).toMatchObject({ kind: 'J', freshUntil: 1000, staleUntil: 2000, version: 'v1' });
    const value = record.value as { a: [number, { b: string }] };
    expect(value).toEqual({ a: [1, { b: 'c' }], when: '1970-01-01T00:00:00.000Z' });
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.a[1])).toBe(true);
    expect(() => {
      'use strict';
      value.a[1].b = 'changed';
    }).toThrow(TypeError);
  });

  it('stores bytes as base64 and hands out copies', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const { kind, payload } = encodeValue(bytes);
    expect(kind).toBe('B');
    const record = recordOf(kind, payload, 1, 2, 'v', 'k');
    const first = valueFor(record) as Buffer;
    expect(first.equals(bytes)).toBe(true);
    first[0] = 9;
    expect((valueFor(record) as Buffer)[0]).toBe(0);
  });

  it('keeps null, strings and numbers', () => {
    for (const value of [null, 'text', 0, false, []]) {
      const { kind, payload } = encodeValue(value);
      expect(recordOf(kind, payload, 1, 2, 'v', 'k').value).toEqual(value);
    }
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => encodeValue(undefined)).toThrow(/store null to cache an absence/);
    expect(() => encodeValue(() => 1)).toThrow(/cannot be stored/);
    expect(() => encodeValue(10n)).toThrow(/cannot be stored as JSON/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => encodeValue(cycle)).toThrow(/cannot be stored as JSON/);
  });

  it('treats strings it did not write as absent', () => {
    expect(parseRecord('plain value', 'k')).toBeNull();
    expect(parseRecord('J1:2:v|{broken', 'k')).toBeNull();
    expect(versionOf('J1:2:abc_-9|1')).toBe('abc_-9');
    expect(versionOf('nope')).toBeNull();
  });
});
