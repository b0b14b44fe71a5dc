/**
 * The deepest nesting of objects and arrays accepted anywhere input is parsed:
 * HTTP JSON bodies, cache-sync events (HTTP and stream), Socket.IO payloads.
 * `{}` and `[]` are one level, `{"a":[1]}` two. Deeper input is refused with a
 * 400 before any recursive code (validation, JSON.stringify, Socket.IO's
 * encoder) sees it, so nothing can overflow the native stack.
 */
export const MAX_JSON_DEPTH = 32;

export const JSON_DEPTH_RULE = `nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep (the maximum)`;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text nests deeper than `max`, read in one pass without parsing
 * it (so before JSON.parse builds anything). Text that is not JSON gives some
 * answer; the parser refuses it afterwards either way.
 */
export function jsonTextTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Whether a value (parsed JSON, a Socket.IO payload) nests objects and arrays
 * deeper than `max`. Walks with a stack of its own, never recursing, and stops
 * at the first value past the limit.
 */
export function jsonValueTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > max) return true;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth });
    }
  }
  return false;
}
