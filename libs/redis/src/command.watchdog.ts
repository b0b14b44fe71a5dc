import { performance } from 'node:perf_hooks';
import { Cluster, type Command, type Redis } from 'ioredis';

/** ioredis's own message for a command past its `commandTimeout`, which callers already know. */
export const COMMAND_TIMED_OUT = 'Command timed out';

/** How often the in-flight commands are looked at: a late command fails within two sweeps of its bound. */
export const SWEEP_MS = 50;

type Send = (command: Command, stream?: unknown, node?: unknown) => unknown;

/**
 * Fails every command of a connection that waited longer than `limitMs` for
 * its answer, with ioredis's own error, as ioredis's `commandTimeout` option
 * does, but without a timer per command. That option arms a setTimeout for
 * each command and clears it on the answer, a measurable share of a lone
 * lock loop's client work (docs/benchmarks.md, session 11). Here sending a
 * command costs one array push, and reads no clock: one sweep every
 * SWEEP_MS, running only while commands are pending, stamps the commands
 * sent since the sweep before with its own time (an upper bound of when
 * they were sent) and fails those stamped `limitMs` ago or more. So a
 * command never fails before its bound, even when the event loop lags, and
 * fails at most about two sweeps after it.
 *
 * A failed command stays in ioredis's queue, as with `commandTimeout`: its
 * late answer, if any, is read and dropped, and the connection stays usable.
 * On a Redis Cluster every node's connection is watched (a command's bound
 * runs from when it is first sent to a node, like ioredis's timer),
 * including commands sent to a node directly (`nodes('master')`).
 */
export class CommandWatchdog {
  /** Commands sent since the last sweep. */
  private fresh: Command[] = [];
  /** Commands still pending at the last sweep, and for each the time by which it had been sent. */
  private pending: Command[] = [];
  private sentBy: number[] = [];
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
    this.fresh.push(command);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      // Pending commands keep nothing alive: a process may exit with one in flight.
      this.sweeper.unref();
    }
  }

  /** Fails the late commands, forgets the answered ones, and stops when none is pending. */
  private sweep(): void {
    const now = performance.now();
    const late: Command[] = [];
    let kept = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const command = this.pending[i];
      if (command.isSettled) continue;
      if (now - this.sentBy[i] >= this.limitMs) {
        late.push(command);
        continue;
      }
      this.pending[kept] = command;
      this.sentBy[kept] = this.sentBy[i];
      kept++;
    }
    for (const command of this.fresh) {
      if (command.isSettled) continue;
      this.pending[kept] = command;
      this.sentBy[kept] = now;
      kept++;
    }
    this.pending.length = kept;
    this.sentBy.length = kept;
    this.fresh = [];
    if (kept === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    // After the lists are consistent: failing a command may send another (a cluster's retry).
    // A command noted twice (sent again) is failed once.
    for (const command of late) {
      if (!command.isSettled) command.reject(new Error(COMMAND_TIMED_OUT));
    }
  }
}
