import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/**
 * Reads a child process's stdout line by line: JSON lines (its reports) go to
 * `json`, parsed; any other line (a logger sharing stdout) to `other`.
 */
export function readJsonLines(
  stream: Readable,
  json: (message: unknown) => void,
  other: (line: string) => void,
): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (line.startsWith('{')) json(JSON.parse(line));
    else other(line);
  });
}
