/** The prefix of a position that names every channel of its socket (a multi-channel socket's). */
const VECTOR = '~';

/**
 * What one socket has of each of its channels, and the position that says so
 * to its client (CONTRACT 8.3).
 *
 * Socket.IO's client keeps the last string argument of the last event it
 * received and reports it when it reconnects. Every channel event a socket is
 * sent ends with its position, so that string tells exactly how far the
 * client got in each channel, with nothing kept by the instance that sent it
 * (which may be killed):
 * - a socket in one channel gets the event's own `"<channel> <offset>"`, the
 *   same for every socket of the broadcast (encoded once);
 * - a socket in several channels gets its own `"~ <id>:<offset> ..."`, the
 *   offset it has in each channel, a channel named by the id it has in the
 *   socket's recovery record (RecoveryRecord).
 */
export class DeliveryState {
  /** channel → its id in this socket's positions and record, given at join, never reused. */
  private readonly ids = new Map<string, number>();
  /** channel → the id taken for it by a join not done yet: in the record, not yet in the position. */
  private readonly reserved = new Map<string, number>();
  private nextId = 0;
  /** channel → the offset its member list was current to when the socket joined (or recovered). */
  private readonly joinedAt = new Map<string, string>();
  /** channel → the offset of the last event of the channel the socket was sent. */
  private readonly sent = new Map<string, string>();
  /** channel → the offset of the newest live event held back while replaying. */
  private readonly held = new Map<string, string>();
  private vector?: string;
  /** Replaying: live events are held back (the replay reads them from the log). */
  replaying: boolean;
  /** The recovered socket connected and its replay began. */
  resumed = false;
  /**
   * Its record in Redis: none yet; written (at its first join, or by its
   * recovery); or stale, Redis refused the last write (an older record may
   * be there), so it is written again at the next refresh or drop.
   */
  record: 'none' | 'written' | 'stale';

  constructor(
    /** Socket.IO's private id of the connection: its recovery record's key. */
    readonly pid: string,
    /** A recovered socket's channels, each with its id and the offset its client has. */
    restored?: { channel: string; id: number; offset: string }[],
  ) {
    for (const { channel, id, offset } of restored ?? []) {
      this.ids.set(channel, id);
      this.joinedAt.set(channel, offset);
      this.sent.set(channel, offset);
      this.nextId = Math.max(this.nextId, id + 1);
    }
    this.replaying = restored !== undefined;
    this.record = restored !== undefined ? 'written' : 'none';
  }

  /** The channels, each with its id, a join's being made included (see `joining`). */
  channels(): [string, number][] {
    return [...this.ids, ...this.reserved];
  }

  /** Whether a broadcast's own position (`channelPosition`) is this socket's whole position. */
  hasOnly(channel: string): boolean {
    return this.ids.size === 1 && this.ids.has(channel);
  }

  /** The offset of the last event of `channel` the socket was sent, if any. */
  sentIn(channel: string): string | undefined {
    return this.sent.get(channel);
  }

  /**
   * A join of `channel` is being made: the channel has its id from now on,
   * named by the socket's record (written beside the join) but not by its
   * position until the join is done.
   */
  joining(channel: string): void {
    if (!this.ids.has(channel) && !this.reserved.has(channel)) {
      this.reserved.set(channel, this.nextId++);
    }
  }

  /** A join being made failed: the record names its channel no more (its id is not reused). */
  notJoined(channel: string): void {
    this.reserved.delete(channel);
  }

  /** The socket is in `channel` with a list current to `offset` (a join). */
  joined(channel: string, offset: string): void {
    if (!this.ids.has(channel)) this.ids.set(channel, this.reserved.get(channel) ?? this.nextId++);
    this.reserved.delete(channel);
    const had = this.joinedAt.get(channel);
    if (had === undefined || offset > had) this.joinedAt.set(channel, offset);
    this.vector = undefined;
  }

  left(channel: string): void {
    this.ids.delete(channel);
    this.joinedAt.delete(channel);
    this.sent.delete(channel);
    this.vector = undefined;
  }

  /**
   * Whether a live event of `channel` at `offset` goes to the socket now (it
   * then counts as sent): never twice, never older than what it has, and not
   * while a replay runs (which reads it from the log).
   */
  admit(channel: string, offset: string): boolean {
    if (this.replaying) {
      this.hold(channel, offset);
      return false;
    }
    const sent = this.sent.get(channel);
    if (sent !== undefined && offset <= sent) return false;
    this.advance(channel, offset);
    return true;
  }

  /** While replaying, a live event of `channel` at `offset` is noted (it is not sent). */
  hold(channel: string, offset: string): void {
    if (!this.replaying) return;
    const held = this.held.get(channel);
    if (held === undefined || offset > held) this.held.set(channel, offset);
  }

  /**
   * Whether a live event of `channel` newer than the last one the replay sent
   * was held back: published after the log was read, so the replay reads it again.
   */
  behind(channel: string): boolean {
    const held = this.held.get(channel);
    const sent = this.sent.get(channel);
    return held !== undefined && sent !== undefined && held > sent;
  }

  /** The replay is done: live events go through from now on. */
  replayed(): void {
    this.replaying = false;
    this.held.clear();
  }

  /** The socket is sent `channel`'s event at `offset`. */
  advance(channel: string, offset: string): void {
    this.sent.set(channel, offset);
    this.vector = undefined;
  }

  /** This socket's position as it stands: `"~"` then ` <id>:<offset>` per channel. */
  position(): string {
    if (this.vector === undefined) {
      let text = VECTOR;
      for (const [channel, id] of this.ids) {
        const joined = this.joinedAt.get(channel) as string;
        const sent = this.sent.get(channel);
        text += ` ${id.toString(36)}:${sent !== undefined && sent > joined ? sent : joined}`;
      }
      this.vector = text;
    }
    return this.vector;
  }
}

/** The position of one channel event, the same for every socket in that channel only. */
export const channelPosition = (channel: string, offset: string): string => `${channel} ${offset}`;

const OFFSET = /^\d{16}$/;

/**
 * The offsets a position reports, per channel of `record` (id → channel),
 * or null when it is no position of a socket with exactly those channels.
 */
export function parsePosition(
  position: string,
  channels: readonly { channel: string; id: number }[],
): Map<string, string> | null {
  const offsets = new Map<string, string>();
  if (position.startsWith(VECTOR)) {
    const byId = new Map(channels.map(({ channel, id }) => [id.toString(36), channel]));
    for (const entry of position.slice(VECTOR.length).split(' ')) {
      if (entry === '') continue;
      const [id, offset] = entry.split(':');
      const channel = byId.get(id);
      if (channel === undefined || !OFFSET.test(offset ?? '')) return null;
      offsets.set(channel, offset);
    }
  } else {
    const [channel, offset, ...rest] = position.split(' ');
    if (rest.length > 0 || !OFFSET.test(offset ?? '')) return null;
    offsets.set(channel, offset);
  }
  // The record and the client must agree on the channels: a change whose record or
  // position did not get through (Redis failed, the connection dropped) is not guessed at.
  if (offsets.size !== channels.length) return null;
  for (const { channel } of channels) if (!offsets.has(channel)) return null;
  return offsets;
}
