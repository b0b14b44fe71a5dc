import { InvalidCacheKeyError, InvalidCachePatternError } from './cache.errors';
import { MAX_KEY_LENGTH, MAX_PATTERN_LENGTH, MAX_PATTERN_WILDCARDS } from './cache.constants';

/*
 * What keys and patterns may contain. Keys never contain a glob character, so
 * a key is always a literal inside a pattern, and a namespace joined to a
 * pattern cannot change what the namespace part matches. Patterns are checked
 * against a small grammar instead of being escaped: what is accepted is
 * exactly what is documented in docs/cache.md.
 */

const KEY_CHAR = 'A-Za-z0-9:_.\\-/@+=,';
const KEY = new RegExp(`^[${KEY_CHAR}]+$`);
const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;
const LITERAL = new RegExp(`[${KEY_CHAR}]`);

export const CACHE_KEY_RULE = `1 to ${MAX_KEY_LENGTH} characters of A-Z a-z 0-9 : _ . - / @ + = ,`;
export const CACHE_PATTERN_RULE =
  `1 to ${MAX_PATTERN_LENGTH} characters: key characters (A-Z a-z 0-9 : _ . - / @ + = ,), ` +
  `the wildcards * and ? (at most ${MAX_PATTERN_WILDCARDS}), and classes like [abc], [a-z] or [^0-9]`;
export const CACHE_NAMESPACE_RULE = '1 to 64 characters of A-Z a-z 0-9 _ . -';

/** Why `key` is not a valid cache key, or null when it is. */
export function cacheKeyProblem(key: unknown): string | null {
  if (typeof key !== 'string') return 'must be a string';
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !KEY.test(key)) {
    return `must be ${CACHE_KEY_RULE}`;
  }
  return null;
}

export function assertCacheKey(key: unknown): asserts key is string {
  const problem = cacheKeyProblem(key);
  if (problem) throw new InvalidCacheKeyError(`A cache key ${problem}`);
}

/**
 * A list of tags: an array of at most `max` tags, each following the key
 * rule (so a tag, like a key, never contains a brace or a glob character).
 */
export function assertCacheTags(tags: unknown, max: number): asserts tags is readonly string[] {
  if (!Array.isArray(tags) || tags.length > max) {
    throw new InvalidCacheKeyError(`Cache tags must be an array of at most ${max} tags`);
  }
  for (const tag of tags as unknown[]) {
    const problem = cacheKeyProblem(tag);
    if (problem) throw new InvalidCacheKeyError(`A cache tag ${problem}`);
  }
}

export function assertNamespace(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAMESPACE.test(name)) {
    throw new InvalidCacheKeyError(`A cache namespace must be ${CACHE_NAMESPACE_RULE}`);
  }
}

/** Why `pattern` is not an accepted glob, or null when it is. */
export function cachePatternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string') return 'must be a string';
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    return `must be 1 to ${MAX_PATTERN_LENGTH} characters`;
  }
  let wildcards = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' || c === '?') {
      wildcards++;
      continue;
    }
    if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) return `has a [ at position ${i + 1} that is never closed`;
      const problem = classProblem(pattern.slice(i + 1, end));
      if (problem) return `has a bad class at position ${i + 1}: ${problem}`;
      i = end;
      continue;
    }
    if (c === ']') return `has a ] at position ${i + 1} without a [`;
    if (c === '\\')
      return 'may not contain \\ (keys contain no glob characters, so nothing needs escaping)';
    if (!LITERAL.test(c))
      return `may not contain ${JSON.stringify(c)}; it must be ${CACHE_PATTERN_RULE}`;
  }
  if (wildcards > MAX_PATTERN_WILDCARDS) {
    return `may contain at most ${MAX_PATTERN_WILDCARDS} wildcards`;
  }
  return null;
}

/**
 * The inside of `[...]`: an optional leading ^, then members that are a key
 * character other than - or a range like a-z. A - anywhere else is refused:
 * Redis would read `[a-]` as the range a..] and match differently from what
 * the pattern seems to say.
 */
function classProblem(body: string): string | null {
  const members = body.startsWith('^') ? body.slice(1) : body;
  if (members.length === 0) return 'it is empty';
  const member = (c: string | undefined) =>
    c !== undefined && c !== '-' && c !== '[' && c !== '^' && LITERAL.test(c);
  for (let i = 0; i < members.length; i++) {
    const c = members[i];
    if (!member(c)) return `${JSON.stringify(c)} is not allowed there inside a class`;
    if (members[i + 1] === '-') {
      const to = members[i + 2];
      if (!member(to)) return `the range starting at ${JSON.stringify(c)} has no end`;
      if (to < c) return `the range ${c}-${to} is backwards`;
      i += 2;
    }
  }
  return null;
}

export function assertCachePattern(pattern: unknown): asserts pattern is string {
  const problem = cachePatternProblem(pattern);
  if (problem) throw new InvalidCachePatternError(`A cache pattern ${problem}`);
}
