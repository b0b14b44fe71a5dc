import { performance } from 'node:perf_hooks';
import { Cluster, type Command, type Redis } from 'ioredis';

/** ioredis's own message for a command past its `commandTimeout`, which callers already know. */
export const COMMAND_TIMED_OUT = 'Command timed out';

/** How often the in-flight commands are looked at: the most a late command may overrun its bound. */
export const SWEEP_MS = 100;

type Send = (command: Command, stream?: unknown, node?: unknown) => unknown;

/**
 * Fails every command of a connection that waited longer than `limitMs` for
 * its answer, with ioredis's own error, as ioredis's `commandTimeout` option
 * does, but without a timer per command. That option arms a setTimeout for
 * each command and clears it on the answer, which cost a lone loop of lock
 * acquire + release several percent of its pairs/s (docs/benchmarks.md,
 * session 11). Here each command sent is noted with the time it was sent, and
 * one sweep every SWEEP_MS, running only while commands were noted since the
 * last one that found none pending, fails those past the bound: a command
 * fails between `limitMs` and `limitMs + SWEEP_MS` after it was sent.
 *
 * A failed command stays in ioredis's queue, as with `commandTimeout`: its
 * late answer, if any, is read and dropped, and the connection stays usable.
 * On a Redis Cluster every node's connection is watched (each command is
 * noted when it is first sent to a node, like ioredis's timer), including
 * commands sent to a node directly (`nodes('master')`).
 */
export class CommandWatchdog {
  private commands: Command[] = [];
  private sentAt: number[] = [];
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly limitMs: number) {}

  /** Watches `client` from now on, or each node connection a Cluster makes; returns `client`. */
  static watch<T extends Redis | Cluster>(client: T, limitMs: number): T {
    const watchdog = new CommandWatchdog(limitMs);
    if (client instanceof Cluster) {
      client.on('+node', (node: Redis) => watchdog.watchConnection(node));
    } else {
      watchdog.watchConnection(client as Redis);
    }
    return client;
  }

  private watchConnection(connection: Redis): void {
    const send = connection.sendCommand as unknown as Send;
    const replacement: Send = (command, stream, node) => {
      this.note(command);
      return send.call(connection, command, stream, node);
    };
    connection.sendCommand = replacement as unknown as Redis['sendCommand'];
  }

  private note(command: Command): void {
    this.commands.push(command);
    this.sentAt.push(performance.now());
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      // Pending commands keep nothing alive: a process may exit with one in flight.
      this.sweeper.unref();
    }
  }

  /** Drops answered commands, fails the late ones, and stops when none is pending. */
  private sweep(): void {
    const late: Command[] = [];
    const bound = performance.now() - this.limitMs;
    let kept = 0;
    for (let i = 0; i < this.commands.length; i++) {
      const command = this.commands[i];
      if (command.isSettled) continue;
      if (this.sentAt[i] <= bound) {
        late.push(command);
        continue;
      }
      this.commands[kept] = command;
      this.sentAt[kept] = this.sentAt[i];
      kept++;
    }
    this.commands.length = kept;
    this.sentAt.length = kept;
    if (kept === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    // After the list is consistent: rejecting may send commands (a cluster's retry), which note.
    // A command noted twice (sent again) is failed once.
    for (const command of late) {
      if (!command.isSettled) command.reject(new Error(COMMAND_TIMED_OUT));
    }
  }
}
