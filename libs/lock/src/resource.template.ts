/** Where `@WithLock` finds its resources: a template, several, or a function of the arguments. */
export type ResourceSpec =
  string | readonly string[] | ((...args: never[]) => string | readonly string[]);

const PLACEHOLDER = /\{([^{}]*)\}/g;
const PATH = /^(?:[A-Za-z_$][\w$]*|\d+)(?:\.(?:[A-Za-z_$][\w$]*|\d+))*$/;

/**
 * The names of a function's simple parameters, from its source (undefined for
 * a destructured one). Enough for `{login}` placeholders; a parameter that
 * cannot be named is reached by position, `{0}`.
 */
export function parameterNames(fn: (...args: never[]) => unknown): (string | undefined)[] {
  const source = Function.prototype.toString.call(fn);
  const open = source.indexOf('(');
  if (open < 0) return [];
  const raws: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = open + 1; i < source.length; i++) {
    const c = source[i];
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) {
      if (depth === 0) {
        raws.push(current);
        break;
      }
      depth--;
    }
    if (c === ',' && depth === 0) {
      raws.push(current);
      current = '';
    } else current += c;
  }
  return raws
    .map((raw) =>
      raw
        .split('=')[0]
        .replace(/^\s*\.\.\./, '')
        .trim(),
    )
    .filter((raw, i, all) => raw !== '' || i < all.length - 1)
    .map((name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : undefined));
}

function valueAt(args: readonly unknown[], names: readonly (string | undefined)[], path: string) {
  const [head, ...rest] = path.split('.');
  let value: unknown = /^\d+$/.test(head) ? args[Number(head)] : args[names.indexOf(head)];
  for (const part of rest) {
    value =
      value === null || value === undefined ? undefined : (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Compiles a resource spec once, when the method is decorated, so a
 * placeholder naming no parameter fails at start-up, not on the first call.
 * `{login}` is the argument named `login`, `{0}` the first argument,
 * `{dto.id}` a property of one; each must be a string, a number or a bigint.
 */
export function compileResources(
  spec: ResourceSpec,
  method: (...args: never[]) => unknown,
  where: string,
): (args: readonly unknown[]) => string[] {
  if (typeof spec === 'function') {
    return (args) => {
      const result = (spec as (...a: unknown[]) => string | readonly string[])(...args);
      return typeof result === 'string' ? [result] : [...result];
    };
  }
  const templates = typeof spec === 'string' ? [spec] : [...spec];
  if (templates.length === 0) throw new TypeError(`${where}: @WithLock needs a resource`);
  const names = parameterNames(method);
  for (const template of templates) {
    for (const [, path] of template.matchAll(PLACEHOLDER)) {
      const head = path.split('.')[0];
      if (!PATH.test(path)) {
        throw new TypeError(`${where}: @WithLock placeholder {${path}} is not a parameter path`);
      }
      if (!/^\d+$/.test(head) && !names.includes(head)) {
        throw new TypeError(
          `${where}: @WithLock placeholder {${path}} names no parameter (use {0}, {1}, ... for position)`,
        );
      }
    }
  }
  return (args) =>
    templates.map((template) =>
      template.replace(PLACEHOLDER, (_match, path: string) => {
        const value = valueAt(args, names, path);
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') {
          throw new TypeError(`${where}: @WithLock placeholder {${path}} is ${typeof value}`);
        }
        return String(value);
      }),
    );
}
