import { MAX_JSON_DEPTH, jsonTextTooDeep, jsonValueTooDeep } from './json-depth';

const nestedText = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const nestedValue = (levels: number) => JSON.parse(nestedText(levels)) as unknown;

describe('JSON depth limits', () => {
  it('accepts text and values exactly at the maximum depth', () => {
    expect(jsonTextTooDeep(nestedText(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonValueTooDeep(nestedValue(MAX_JSON_DEPTH))).toBe(false);
  });

  it('refuses text and values one level deeper', () => {
    expect(jsonTextTooDeep(nestedText(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonValueTooDeep(nestedValue(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it('counts objects and arrays alike, and ignores brackets inside strings', () => {
    expect(jsonTextTooDeep('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(jsonTextTooDeep('{"a":{"b":[[1]]}}', 3)).toBe(true);
    expect(jsonTextTooDeep('{"a":"[[[[[[\\"{{{{"}', 1)).toBe(false);
    expect(jsonValueTooDeep({ a: { b: [1] } }, 3)).toBe(false);
    expect(jsonValueTooDeep({ a: { b: [[1]] } }, 3)).toBe(true);
    expect(jsonValueTooDeep('[[[[', 0)).toBe(false);
  });

  it('handles nesting far beyond what recursion survives, without overflowing the stack', () => {
    expect(jsonTextTooDeep(nestedText(1_000_000))).toBe(true);
    expect(jsonValueTooDeep(nestedValue(200_000))).toBe(true);
  });
});
