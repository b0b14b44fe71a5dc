import { tracingChannel } from 'node:diagnostics_channel';
import type { HotCounter } from '@lattice/observability';

interface CommandContext {
  command: string;
}

/**
 * Counts every ioredis command and every failed one through ioredis's own
 * diagnostics channel, so no client needs wrapping. Returns the unsubscribe.
 */
export function countRedisCommands(
  commands: HotCounter<'command'>,
  errors: HotCounter<'command'>,
): () => void {
  const channel = tracingChannel<CommandContext, CommandContext>('ioredis:command');
  const noop = () => undefined;
  const handlers = {
    start: noop,
    end: noop,
    asyncStart: noop,
    // Published for every settled command, failed or not.
    asyncEnd: (ctx: CommandContext) => commands.child({ command: ctx.command.toLowerCase() }).inc(),
    error: (ctx: CommandContext) => errors.child({ command: ctx.command.toLowerCase() }).inc(),
  };
  channel.subscribe(handlers);
  return () => channel.unsubscribe(handlers);
}
