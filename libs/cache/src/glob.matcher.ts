/**
 * A pattern accepted by `cachePatternProblem` as a RegExp with Redis's glob
 * semantics (`*` any run of characters, `:` included; `?` one character;
 * `[...]` / `[^...]` classes with ranges), so that the entries an instance
 * drops from its L1 are exactly the keys SCAN MATCH finds in Redis.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      source += '.*';
    } else if (c === '?') {
      source += '.';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`${source}$`, 's');
}
