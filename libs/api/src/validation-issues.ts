import type { z } from 'zod';
import type { ValidationIssue } from '@lattice/common';

/**
 * A validation answer is small whatever the input: at most this many issues
 * in `details` (then one saying how many more), and no issue echoes more
 * than a bounded slice of what was sent.
 */
export const MAX_VALIDATION_ISSUES = 20;
/** Unknown fields named per issue; the rest are counted. */
const MAX_UNKNOWN_KEYS_NAMED = 5;
/** A path segment or unknown field name is cut to this many characters. */
const MAX_NAME_CHARS = 40;
/** An issue's message is cut to this many characters. */
const MAX_MESSAGE_CHARS = 200;
/** Issues named in the error's `message`; `details` has the rest. */
const MAX_ISSUES_IN_MESSAGE = 5;

const cut = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

function unknownKeysMessage(keys: readonly string[]): string {
  const named = keys
    .slice(0, MAX_UNKNOWN_KEYS_NAMED)
    .map((key) => JSON.stringify(cut(key, MAX_NAME_CHARS)));
  const more = keys.length - named.length;
  return `unknown field${keys.length === 1 ? '' : 's'} ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

function withRemainder(listed: ValidationIssue[], more: number): ValidationIssue[] {
  if (more > 0) listed.push({ path: '(root)', message: `and ${more} more problems not listed` });
  return listed;
}

/** Caps the number of issues and the length of each, whoever produced them. */
export function boundIssues(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const listed = issues.slice(0, MAX_VALIDATION_ISSUES).map(({ path, message }) => ({
    path: cut(path, MAX_MESSAGE_CHARS),
    message: cut(message, MAX_MESSAGE_CHARS),
  }));
  return withRemainder(listed, issues.length - listed.length);
}

/**
 * zod's issues as the contract's `details` (`{ path, message }`), bounded:
 * unknown fields are named only up to a few, each cut short, and path
 * segments (which may be keys the client chose) are cut short too.
 */
export function zodIssues(
  error: z.ZodError,
  prefix: readonly (string | number)[] = [],
): ValidationIssue[] {
  const listed = error.issues.slice(0, MAX_VALIDATION_ISSUES).map((issue) => ({
    path:
      [...prefix, ...issue.path].map((segment) => cut(String(segment), MAX_NAME_CHARS)).join('.') ||
      '(root)',
    // Already bounded: a few names, each cut short.
    message:
      issue.code === 'unrecognized_keys'
        ? unknownKeysMessage(issue.keys)
        : cut(issue.message, MAX_MESSAGE_CHARS),
  }));
  return withRemainder(listed, error.issues.length - listed.length);
}

/** The first few issues as one line, for an error's `message`. */
export function issuesSummary(issues: readonly ValidationIssue[]): string {
  const named = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((d) => `${d.path}: ${d.message}`);
  const more = issues.length - named.length;
  return named.join('; ') + (more > 0 ? ` (and ${more} more in details)` : '');
}
