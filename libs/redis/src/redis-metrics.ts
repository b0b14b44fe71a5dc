import { tracingChannel } from 'node:diagnostics_channel';
import type { Counter } from 'prom-client';

interface CommandContext {
  command: string;
}

/**
 * Counts every ioredis command and every failed one through ioredis's own
 * diagnostics channel, so no client needs wrapping. Returns the unsubscribe.
 */
export function countRedisCommands(
  commands: Counter<'command'>,
  errors: Counter<'command'>,
): () => void {
  const channel = tracingChannel<CommandContext, CommandContext>('ioredis:command');
  const noop = () => undefined;
  const handlers = {
    start: noop,
    end: noop,
    asyncStart: noop,
    // Published for every settled command, failed or not.
    asyncEnd: (ctx: CommandContext) => commands.inc({ command: ctx.command.toLowerCase() }),
    error: (ctx: CommandContext) => errors.inc({ command: ctx.command.toLowerCase() }),
  };
  channel.subscribe(handlers);
  return () => channel.unsubscribe(handlers);
}
