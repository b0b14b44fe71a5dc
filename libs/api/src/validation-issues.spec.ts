import { z } from 'zod';
import { MAX_VALIDATION_ISSUES, boundIssues, issuesSummary, zodIssues } from './validation-issues';

const strict = z.strictObject({ name: z.string() });

describe('bounded validation issues', () => {
  it('names a few unknown fields, each cut short, and counts the rest', () => {
    const body: Record<string, unknown> = { name: 'x' };
    for (let i = 0; i < 5000; i++) body[`unknown_${i}_${'k'.repeat(100)}`] = i;
    const result = strict.safeParse(body);
    expect(result.success).toBe(false);
    const details = zodIssues(result.error!);
    expect(details).toHaveLength(1);
    expect(details[0].path).toBe('(root)');
    expect(details[0].message).toMatch(/^unknown fields "unknown_0_k+…", .* and 4995 more$/);
    expect(JSON.stringify(details).length).toBeLessThan(400);
  });

  it(`lists at most ${MAX_VALIDATION_ISSUES} issues, then says how many more`, () => {
    const result = z.array(z.string()).safeParse(Array.from({ length: 1000 }, (_, i) => i));
    const details = zodIssues(result.error!);
    expect(details).toHaveLength(MAX_VALIDATION_ISSUES + 1);
    expect(details[0]).toEqual({ path: '0', message: expect.any(String) });
    expect(details[MAX_VALIDATION_ISSUES]).toEqual({
      path: '(root)',
      message: `and ${1000 - MAX_VALIDATION_ISSUES} more problems not listed`,
    });
    expect(issuesSummary(details)).toMatch(/\(and 16 more in details\)$/);
  });

  it('cuts long path segments (keys the client chose) and long messages', () => {
    const result = z.record(z.string(), z.number()).safeParse({ ['p'.repeat(10_000)]: 'x' });
    const [issue] = zodIssues(result.error!, ['value']);
    expect(issue.path).toBe(`value.${'p'.repeat(39)}…`);
    const [long] = boundIssues([{ path: 'a', message: 'm'.repeat(10_000) }]);
    expect(long.message.length).toBe(200);
  });

  it('keeps small answers as they are', () => {
    const result = strict.safeParse({ name: 1, extra: true });
    expect(zodIssues(result.error!)).toEqual([
      { path: 'name', message: expect.stringMatching(/expected string/) },
      { path: '(root)', message: 'unknown field "extra"' },
    ]);
  });
});
