import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis-options.factory';

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

let counter = 0;

/**
 * A Lua script loaded once from its `.lua` file and run by SHA (EVALSHA, with
 * ioredis falling back to EVAL once after a NOSCRIPT). Keys are given
 * unprefixed: the connection's KEY_PREFIX is applied to them like to any key.
 * Several files make one script, in order: shared functions first, so scripts
 * that need the same Lua need not repeat it.
 */
export class RedisScript<T = unknown> {
  private readonly command: string;

  /** The script's own file (the last one given), for messages. */
  readonly file: string;

  constructor(
    private readonly client: RedisClient,
    files: string | readonly string[],
    readonly numberOfKeys: number,
  ) {
    const all = typeof files === 'string' ? [files] : files;
    this.file = all[all.length - 1];
    this.command = `lattice_script_${++counter}`;
    const lua = all.map((file) => readFileSync(file, 'utf8')).join('\n');
    client.defineCommand(this.command, { lua, numberOfKeys });
  }

  run(keys: readonly string[], args: readonly (string | number)[] = []): Promise<T> {
    if (keys.length !== this.numberOfKeys) {
      throw new Error(`${this.file} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    const command = (this.client as unknown as Record<string, ScriptCommand>)[this.command];
    return command.call(this.client, ...keys, ...args) as Promise<T>;
  }
}
