import { Injectable } from '@nestjs/common';
import { RedisService, type RedisClient } from '@lattice/redis';

/** How long a channel stays subscribed after its last local waiter left, so contention does not churn. */
const LINGER_MS = 2_000;

interface Sleeper {
  /** Set while the waiter pauses between two attempts. */
  resolve?: () => void;
  /** Its turn was announced while it was not pausing: the next pause ends at once. */
  woken: boolean;
}

interface Channel {
  readonly sleepers: Map<string, Sleeper>;
  readonly subscribed: Promise<void>;
  linger?: NodeJS.Timeout;
}

/** A waiter's ear on the wake-up channels of the resources it waits for. */
export interface Listener {
  /** Resolves once every channel is subscribed (or failed to be: then the pause timer is the net). */
  readonly ready: Promise<void>;
  /** Sleeps `ms`, or less when this waiter's turn is announced (or `signal` aborts). */
  pause(ms: number, signal?: AbortSignal): Promise<void>;
  stop(): void;
}

/**
 * One shared subscriber per process for the lock wake-up channels (one per
 * resource, `<key>:wake`, sharded pub/sub in the resource's hash tag): the
 * scripts that free a place publish the waiters whose turn it is, and the
 * waiter of this process with that name tries again at once instead of at
 * its next poll. A channel is subscribed while a waiter of this process
 * listens on it (and LINGER_MS after). A lost message only delays a waiter
 * until its pause ends: the pause is the safety net, never the mechanism.
 * A provider of LockModule, so a test can replace it (e.g. one that never wakes).
 */
@Injectable()
export class LockWakeups {
  private subscriber?: RedisClient;
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly redis: RedisService) {}

  /** Listens for `member`'s turn on the wake-up channels of `keys` (holder or lease keys). */
  listen(keys: readonly string[], member: string): Listener {
    const sleeper: Sleeper = { woken: false };
    const names = keys.map((key) => this.redis.channel(`${key}:wake`));
    const ready = Promise.all(names.map((name) => this.join(name, member, sleeper)));
    return {
      ready: ready.then(() => undefined),
      pause: (ms, signal) =>
        new Promise<void>((resolve) => {
          if (sleeper.woken || signal?.aborted) {
            sleeper.woken = false;
            return resolve();
          }
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            sleeper.resolve = undefined;
            sleeper.woken = false;
            resolve();
          };
          const timer = setTimeout(done, Math.max(0, ms));
          signal?.addEventListener('abort', done, { once: true });
          sleeper.resolve = done;
        }),
      stop: () => names.forEach((name) => this.part(name, member)),
    };
  }

  /** Whether a waiter of this process listens on `keys`' channels: they are contended right now. */
  awaited(keys: readonly string[]): boolean {
    return keys.some(
      (key) => !!this.channels.get(this.redis.channel(`${key}:wake`))?.sleepers.size,
    );
  }

  private join(name: string, member: string, sleeper: Sleeper): Promise<void> {
    let channel = this.channels.get(name);
    if (!channel) {
      const subscribed = this.connection()
        .ssubscribe(name)
        .then(
          () => undefined,
          () => undefined,
        );
      channel = { sleepers: new Map(), subscribed };
      this.channels.set(name, channel);
    }
    clearTimeout(channel.linger);
    channel.linger = undefined;
    channel.sleepers.set(member, sleeper);
    return channel.subscribed;
  }

  private part(name: string, member: string): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    channel.sleepers.delete(member);
    if (channel.sleepers.size > 0) return;
    channel.linger = setTimeout(() => {
      if (channel.sleepers.size > 0 || this.channels.get(name) !== channel) return;
      this.channels.delete(name);
      this.subscriber?.sunsubscribe(name).catch(() => undefined);
    }, LINGER_MS);
    channel.linger.unref();
  }

  private connection(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.createChannelSubscriber('lock-wakeups');
    subscriber.on('smessage', (name: string, message: string) => {
      const channel = this.channels.get(name);
      if (!channel) return;
      for (const member of message.split(' ')) {
        const sleeper = channel.sleepers.get(member);
        if (!sleeper) continue;
        if (sleeper.resolve) sleeper.resolve();
        else sleeper.woken = true;
      }
    });
    this.subscriber = subscriber;
    return subscriber;
  }
}
