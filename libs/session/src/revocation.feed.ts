import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { RedisService } from '@lattice/redis';
import { REVOKED_CHANNEL } from './session-keys';

/** How long an announcement waits for every subscribed instance to confirm it. */
export const REVOCATION_CONFIRM_MS = 100;

type RevokedListener = (sessionIds: string[]) => void;
type AccountListener = (userId: string, generation: string) => void;
type ChangedListener = (sessionIds: string[]) => void;

/** Marks an account announcement among the elements of a message. */
const ACCOUNT_MARK = '@';
/** Marks a session that lives on but whose record changed (its roles) among the elements. */
const CHANGED_MARK = '^';

interface Pending {
  confirmed: number;
  expected: number;
  settle: () => void;
}

/**
 * Revoked session ids, announced to every instance over Redis pub/sub and
 * confirmed: each subscribed instance runs its listeners (dropping the
 * sessions from its cache, closing their sockets), then answers on the
 * announcer's own channel. announce() resolves once every instance that
 * received the message has answered, so a logout that has answered is in
 * force everywhere, not merely on its way. An instance that does not answer
 * within REVOCATION_CONFIRM_MS (paused, overloaded) delays the logout by that
 * much at most; its cache entry still ends within SESSION_CACHE_TTL_MS.
 *
 * The same feed tells every instance when a user id is given to a new
 * account (`announceAccount`), so that sessions cached for an earlier account
 * at that id stop answering before the new account exists.
 *
 * The feed also carries sessions that live on but whose stored record
 * changed (`announceChanged`, when an admin changes the user's roles): every
 * instance drops them from its cache, so the next request reads the new
 * record, and nothing else happens (their sockets stay open).
 *
 * Messages are the ids, comma-separated, then `~<announcer>.<nonce>`
 * (session ids never start with `~`); an account announcement is one element
 * `@<userId>.<generation>` instead of the ids, a changed session `^<sessionId>`; confirmations go to
 * `<channel>:confirm:<announcer>` with the nonce. During a rolling upgrade,
 * instances of the previous version read the last element as one more id to
 * forget (harmless) and do not confirm, so announcements wait their bounded
 * time; their plain id lists are applied here without a confirmation.
 */
@Injectable()
export class RevocationFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SessionRevocations');
  private readonly instanceId = randomBytes(8).toString('hex');
  private readonly channel: string;
  private readonly confirmChannel: string;
  private readonly revokedListeners: RevokedListener[] = [];
  private readonly accountListeners: AccountListener[] = [];
  private readonly changedListeners: ChangedListener[] = [];
  private readonly lostListeners: (() => void)[] = [];
  private readonly restoredListeners: (() => void)[] = [];
  private readonly pending = new Map<string, Pending>();
  private nextNonce = 0;
  private listenedBefore = false;
  private stopped = false;
  /** Whether announcements reach this instance right now. */
  private listening = false;

  constructor(private readonly redis: RedisService) {
    this.channel = redis.channel(REVOKED_CHANNEL);
    this.confirmChannel = this.confirmChannelOf(this.instanceId);
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** Called with the ids of every announcement, this instance's own included. */
  onRevoked(listener: RevokedListener): void {
    this.revokedListeners.push(listener);
  }

  /** Called with each account announcement, this instance's own included. */
  onAccount(listener: AccountListener): void {
    this.accountListeners.push(listener);
  }

  /** Called with the ids of every announcement of changed (not ended) sessions, this instance's own included. */
  onChanged(listener: ChangedListener): void {
    this.changedListeners.push(listener);
  }

  /** Called when the subscriber disconnects: announcements may be missed from now on. */
  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /** Called when the subscriber is subscribed again after a loss: what was announced meanwhile was missed. */
  onRestored(listener: () => void): void {
    this.restoredListeners.push(listener);
  }

  onModuleInit(): void {
    const subscriber = this.redis.createSubscriber('session-revocations');
    subscriber.on('message', (from: string, message: string) => {
      if (from === this.channel) this.received(message);
      else if (from === this.confirmChannel) this.confirmed(message);
    });
    const lost = () => {
      if (!this.listening) return;
      if (!this.stopped) this.logger.warn('Revocation feed lost: sessions are checked in Redis');
      this.listening = false;
      for (const listener of this.lostListeners) listener();
    };
    const subscribe = () =>
      subscriber.subscribe(this.channel, this.confirmChannel).then(
        () => this.subscribed(),
        () => lost(),
      );
    subscriber.on('close', lost);
    subscriber.on('end', lost);
    // ioredis re-subscribes after reconnecting; trust again only once it has.
    subscriber.on('ready', () => void subscribe());
    // Not awaited: with Redis down at start-up the app still starts, without the feed.
    void subscribe();
  }

  /**
   * Tells every instance that these sessions ended, and waits (at most
   * REVOCATION_CONFIRM_MS after publishing) until each has applied it.
   * Throws when Redis cannot take the announcement.
   */
  async announce(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.broadcast(sessionIds, 'a revocation');
  }

  /**
   * Tells every instance that `userId` now belongs to the account of
   * `generation`, and waits as announce() does. Throws when Redis cannot
   * take the announcement.
   */
  async announceAccount(userId: string, generation: string): Promise<void> {
    await this.broadcast([`${ACCOUNT_MARK}${userId}.${generation}`], 'an account change');
  }

  /**
   * Tells every instance that these sessions' stored records changed (they
   * did not end), and waits as announce() does. Throws when Redis cannot
   * take the announcement.
   */
  async announceChanged(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.broadcast(
      sessionIds.map((id) => `${CHANGED_MARK}${id}`),
      'a change of sessions',
    );
  }

  private async broadcast(elements: string[], what: string): Promise<void> {
    const nonce = String(this.nextNonce++);
    let timer: NodeJS.Timeout | undefined;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    // Registered before publishing: a confirmation can arrive before PUBLISH's own reply.
    const pending: Pending = { confirmed: 0, expected: Infinity, settle };
    this.pending.set(nonce, pending);
    try {
      pending.expected = await this.publish(`${elements.join(',')},~${this.instanceId}.${nonce}`);
      if (pending.confirmed >= pending.expected) return;
      timer = setTimeout(settle, REVOCATION_CONFIRM_MS);
      await settled;
      if (pending.confirmed < pending.expected && !this.stopped) {
        this.logger.warn(
          `${pending.expected - pending.confirmed} of ${pending.expected} instances did not confirm ${what} within ${REVOCATION_CONFIRM_MS} ms`,
        );
      }
    } finally {
      clearTimeout(timer);
      this.pending.delete(nonce);
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.listening = false;
    for (const pending of this.pending.values()) pending.settle();
  }

  /** Publishes, and says how many subscribers received the message. */
  private async publish(message: string): Promise<number> {
    // eslint-disable-next-line no-restricted-syntax -- the feed is pub/sub: it publishes on the commands connection
    const client = this.redis.client;
    if (!this.redis.isCluster) return client.publish(this.channel, message);
    // On a cluster PUBLISH counts the subscribers of the node it reached only. Counted
    // first: a subscriber that joins meanwhile receives the message and answers anyway.
    const subscribers = await this.redis.subscriberCount(this.channel);
    await client.publish(this.channel, message);
    return subscribers;
  }

  private subscribed(): void {
    if (this.listening || this.stopped) return;
    this.listening = true;
    if (this.listenedBefore) for (const listener of this.restoredListeners) listener();
    this.listenedBefore = true;
  }

  private received(message: string): void {
    const elements = message.split(',');
    const request = elements[elements.length - 1].startsWith('~')
      ? elements.pop()!.slice(1)
      : undefined;
    const ids = elements.filter(
      (element) => !element.startsWith(ACCOUNT_MARK) && !element.startsWith(CHANGED_MARK),
    );
    const accounts = elements.filter((element) => element.startsWith(ACCOUNT_MARK));
    const changed = elements
      .filter((element) => element.startsWith(CHANGED_MARK))
      .map((element) => element.slice(1));
    try {
      if (ids.length) for (const listener of this.revokedListeners) listener(ids);
      if (changed.length) for (const listener of this.changedListeners) listener(changed);
      for (const account of accounts) {
        const dot = account.indexOf('.');
        const [userId, generation] = [account.slice(1, dot), account.slice(dot + 1)];
        for (const listener of this.accountListeners) listener(userId, generation);
      }
    } catch (error) {
      // Not confirmed: the announcer waits its bounded time and says so.
      this.logger.error(`A revocation listener failed: ${(error as Error).message}`);
      return;
    }
    if (!request) return;
    const dot = request.indexOf('.');
    const [announcer, nonce] = [request.slice(0, dot), request.slice(dot + 1)];
    // eslint-disable-next-line no-restricted-syntax -- the feed is pub/sub: it publishes on the commands connection
    this.redis.client.publish(this.confirmChannelOf(announcer), nonce).catch(() => undefined);
  }

  private confirmed(nonce: string): void {
    const pending = this.pending.get(nonce);
    if (!pending) return;
    pending.confirmed += 1;
    if (pending.confirmed >= pending.expected) pending.settle();
  }

  private confirmChannelOf(instanceId: string): string {
    return `${this.channel}:confirm:${instanceId}`;
  }
}
