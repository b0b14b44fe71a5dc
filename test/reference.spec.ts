import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.(ts|lua)$/.test(entry)) yield path;
  }
}

describe('docs/reference.md', () => {
  it('has a section for every "CONTRACT n" the code cites', () => {
    const reference = readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8');
    const sections = new Set(
      [...reference.matchAll(/^#{2,3} (\d+(?:\.\d+)?)[. ]/gm)].map((match) => match[1]),
    );
    expect(sections.size).toBeGreaterThan(10);
    const cited = new Map<string, string>();
    for (const top of ['apps', 'libs', 'test']) {
      for (const file of sources(join(ROOT, top))) {
        for (const match of readFileSync(file, 'utf8').matchAll(/CONTRACT (\d+(?:\.\d+)?)/g)) {
          cited.set(match[1], file.slice(ROOT.length + 1));
        }
      }
    }
    const missing = [...cited].filter(([section]) => !sections.has(section));
    expect(missing).toEqual([]);
  });
});
