import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

/** `<name>.<role>.ts`: a kebab-case name, then one lowercase word for what the class is. */
const CLASS_FILE = /^[a-z0-9]+(-[a-z0-9]+)*\.[a-z]+\.ts$/;
/** The roles whose files hold several classes: a feature's errors, its DTOs. */
const MANY_CLASSES = /\.(errors|dto)\.ts$/;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sources(path);
    const test = /\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !test ? [path] : [];
  });
}

/** The classes a file declares at its top level (one inside a function is not the file's). */
function topLevelClasses(path: string): string[] {
  const text = readFileSync(join(ROOT, path), 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return file.statements.filter(ts.isClassDeclaration).map((node) => node.name?.text ?? 'default');
}

/** Why a file breaks the rule, or null. */
function problem(path: string): string | null {
  const classes = topLevelClasses(path);
  if (classes.length === 0) return null;
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (!CLASS_FILE.test(name)) return `declares ${classes.join(', ')} but is not <name>.<role>.ts`;
  if (classes.length > 1 && !MANY_CLASSES.test(name)) {
    return `declares ${classes.length} classes (${classes.join(', ')}); one class per file`;
  }
  return null;
}

describe('file names (README, Conventions)', () => {
  const files = [...sources('apps'), ...sources('libs')].map((path) =>
    relative(ROOT, join(ROOT, path)),
  );

  it('gives every class file of apps/ and libs/ its <name>.<role>.ts, one class to a file', () => {
    const broken = files.flatMap((path) => {
      const why = problem(path);
      return why ? [`${path} ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('tells a class file that breaks the rule from one that keeps it', () => {
    expect(CLASS_FILE.test('presence.service.ts')).toBe(true);
    expect(CLASS_FILE.test('membership.ledger.ts')).toBe(true);
    expect(CLASS_FILE.test('realtime-connection.ts')).toBe(false);
    expect(CLASS_FILE.test('PresenceService.ts')).toBe(false);
    expect(MANY_CLASSES.test('accounts.errors.ts')).toBe(true);
  });
});
