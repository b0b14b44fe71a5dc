import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { ConfigService } from '@lattice/config';
import { RedisService, type RedisScript } from '@lattice/redis';
import { NotAMemberError } from './presence.errors';
import { orUnavailable } from './presence-unavailable';
import {
  busChannelOf,
  channelScriptKeys,
  connectionsKey,
  eventsKey,
  historyKey,
  membersKey,
  offsetKey,
  roomOf,
} from './presence-keys';
import { presenceTimings, type PresenceTimings } from './presence-timings';
import type {
  PresenceChange,
  PresenceChangeKind,
  PresenceConnection,
  PresenceMember,
  PresenceMeta,
} from './presence.types';

const CHANGES = new Set<string>(['joined', 'left', 'updated']);

function parseMember(json: string): PresenceMember {
  return JSON.parse(json) as PresenceMember;
}

/** Stable order for listings: first come first, ties by user id. */
function byJoinedAt(a: PresenceMember, b: PresenceMember): number {
  if (a.joinedAt !== b.joinedAt) return a.joinedAt < b.joinedAt ? -1 : 1;
  return a.userId.localeCompare(b.userId, 'en', { numeric: true });
}

function changeOf(
  channel: string,
  kind: string,
  member: string | undefined,
  offset: string | undefined,
): PresenceChange | null {
  if (!CHANGES.has(kind) || member === undefined || offset === undefined) return null;
  return { kind: kind as PresenceChangeKind, channel, member: parseMember(member), offset };
}

/**
 * Presence of channels in Redis: who is in a channel, and every change to it,
 * each decided by one Lua script on the channel's keys (one hash tag), so that
 * "first connection" and "last connection" are decided once, whatever the
 * number of workers. The same script announces the change to the channel's
 * room on the Socket.IO adapter's bus, so members hear of changes in the
 * order Redis made them. Reads are for any app; writes are the realtime workers'.
 */
@Injectable()
export class PresenceStore {
  readonly timings: PresenceTimings;
  private readonly joinScript: RedisScript<string[]>;
  private readonly leaveScript: RedisScript<string[]>;
  private readonly updateScript: RedisScript<string[]>;
  private readonly reapScript: RedisScript<(string | number)[]>;
  private readonly touchScript: RedisScript<number>;
  private readonly messageScript: RedisScript<string>;
  private readonly history: { size: number; ttlSeconds: number };
  /** How long the recovery log keeps a channel's events (REALTIME_RECOVERY_MS; 0: not at all). */
  readonly recoveryMs: number;
  /** The Socket.IO adapter the realtime app runs: PUBLISH, or SPUBLISH on a cluster. */
  private readonly busMode: 'classic' | 'sharded';

  constructor(
    private readonly redis: RedisService,
    config: ConfigService,
  ) {
    this.busMode = redis.isCluster ? 'sharded' : 'classic';
    this.timings = presenceTimings(config.get('presence'));
    // The scripts that change members share their Lua through presence-shared.lua.
    const shared = join(__dirname, 'presence-shared.lua');
    const script = <T>(file: string) => redis.script<T>([shared, join(__dirname, file)], 5);
    this.joinScript = script('presence-join.lua');
    this.leaveScript = script('presence-leave.lua');
    this.updateScript = script('presence-update.lua');
    this.reapScript = script('presence-reap.lua');
    this.touchScript = redis.script(join(__dirname, 'presence-touch.lua'), 5);
    this.messageScript = script('channel-message.lua');
    this.history = config.get('realtime').history;
    this.recoveryMs = config.get('realtime').recoveryMs;
  }

  /**
   * Sends a message to a channel's connections on every instance (but the
   * connection `exceptConnectionId`), with the channel's next offset, keeping
   * it in the channel's history; resolves with the message as sent.
   */
  async message<T extends { channel: string }>(
    message: T,
    exceptConnectionId: string,
  ): Promise<T & { offset: string }> {
    const { channel } = message;
    const offset = await orUnavailable(() =>
      this.messageScript.run(
        [
          membersKey(channel),
          connectionsKey(channel),
          historyKey(channel),
          offsetKey(channel),
          eventsKey(channel),
        ],
        [
          ...this.bus(channel, exceptConnectionId),
          JSON.stringify(message),
          this.timings.keyTtlMs,
          this.history.size,
          this.history.ttlSeconds * 1000,
          this.recoveryMs,
        ],
      ),
    );
    return { ...message, offset };
  }

  /**
   * A channel's kept messages, oldest first: the first `limit` after offset
   * `since`, or without it the last `limit`.
   */
  async messages<T>(channel: string, limit: number, since?: string): Promise<T[]> {
    const count = Math.min(limit, this.history.size);
    if (count <= 0) return [];
    const key = historyKey(channel);
    const entries = await orUnavailable(() =>
      since === undefined
        ? this.redis.client.xrevrange(key, '+', '-', 'COUNT', count)
        : // Ids are <offset>-0, so <since>-1 is the first one after it.
          this.redis.client.xrange(key, `${since}-1`, '+', 'COUNT', count),
    );
    if (since === undefined) entries.reverse();
    return entries.map(([, fields]) => JSON.parse(fields[1]) as T);
  }

  /**
   * The channel's events after offset `after`, oldest first, from its recovery
   * log, with the channel's current offset; null when some of them are not
   * there any more (fell out of the log, expired, or Redis lost them), so the
   * events since `after` cannot be told completely.
   */
  async eventsSince(
    channel: string,
    after: string,
  ): Promise<{ event: string; payload: string; offset: string; except: string }[] | null> {
    const [entries, current] = await orUnavailable(async () => {
      const [[rangeError, range], [getError, counter]] = (await this.redis.client
        .multi()
        .xrange(eventsKey(channel), `${after}-1`, '+')
        .get(offsetKey(channel))
        .exec()) as [[Error | null, [string, string[]][]], [Error | null, string | null]];
      if (rangeError) throw rangeError;
      if (getError) throw getError;
      return [range, counter] as const;
    });
    if (current === null) return null;
    // Offsets count up by one per event of the channel, and every event is logged.
    let expected = BigInt(after) + 1n;
    const events = [];
    for (const [id, fields] of entries) {
      const offset = BigInt(id.slice(0, id.indexOf('-')));
      if (offset !== expected) return null;
      expected += 1n;
      const field = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
      events.push({
        event: field('e'),
        payload: field('p'),
        offset: offset.toString().padStart(16, '0'),
        except: field('x'),
      });
    }
    if (BigInt(current) !== expected - 1n) return null;
    return events;
  }

  /** Everyone present in a channel, one entry per user, in the order they came. */
  async members(channel: string): Promise<PresenceMember[]> {
    const values = await orUnavailable(() => this.redis.client.hvals(membersKey(channel)));
    return values.map(parseMember).sort(byJoinedAt);
  }

  /**
   * Adds a connection to a channel (with `meta`, or keeping the meta it has
   * when it is there already) and announces the change to the channel's other
   * connections. `restore` re-homes a connection that is there already to
   * `connection.workerId` without touching its meta. `members` (with
   * `withMembers`) are the channel's exactly as of `offset`: its events up to
   * that offset are in them, later ones are not.
   */
  async join(
    connection: PresenceConnection,
    meta: PresenceMeta | null,
    options: { withMembers?: boolean; restore?: boolean } = {},
  ): Promise<{ change: PresenceChange | null; members: PresenceMember[]; offset: string }> {
    const [kind, member, offset, ...all] = await orUnavailable(() =>
      this.joinScript.run(channelScriptKeys(connection.channel, connection.workerId), [
        // A restored connection is announced to everyone, itself included (it may have been reaped).
        ...this.bus(connection.channel, options.restore ? '' : connection.connectionId),
        connection.userId,
        connection.connectionId,
        connection.workerId,
        connection.login,
        connection.name,
        meta === null ? '' : JSON.stringify(meta),
        new Date().toISOString(),
        this.timings.keyTtlMs,
        options.withMembers ? '1' : '0',
        options.restore ? '1' : '0',
        this.recoveryMs,
      ]),
    );
    return {
      change: changeOf(connection.channel, kind, member, offset),
      members: all.map(parseMember).sort(byJoinedAt),
      offset,
    };
  }

  /**
   * Removes a connection from a channel and announces it; nothing happens when
   * it is not there, nor (with `onlyIfHeld`) when another worker than
   * `connection.workerId` holds it now (a recovered socket that came back elsewhere).
   */
  async leave(
    connection: PresenceConnection,
    options: { onlyIfHeld?: boolean } = {},
  ): Promise<PresenceChange | null> {
    const [kind, member, offset] = await orUnavailable(() =>
      this.leaveScript.run(channelScriptKeys(connection.channel, connection.workerId), [
        ...this.bus(connection.channel, connection.connectionId),
        connection.userId,
        connection.connectionId,
        this.timings.keyTtlMs,
        options.onlyIfHeld ? connection.workerId : '',
        this.recoveryMs,
      ]),
    );
    return changeOf(connection.channel, kind, member, offset);
  }

  /** Sets a connection's meta and announces it; NOT_A_MEMBER when it is not in the channel. */
  async update(connection: PresenceConnection, meta: PresenceMeta): Promise<PresenceChange | null> {
    const [kind, member, offset] = await orUnavailable(() =>
      this.updateScript.run(channelScriptKeys(connection.channel, connection.workerId), [
        ...this.bus(connection.channel, connection.connectionId),
        connection.userId,
        connection.connectionId,
        JSON.stringify(meta),
        this.timings.keyTtlMs,
        this.recoveryMs,
      ]),
    );
    if (kind === 'missing') throw new NotAMemberError(connection.channel);
    return changeOf(connection.channel, kind, member, offset);
  }

  /** Keeps a channel's keys alive while `workerId` holds connections there. */
  async touch(channel: string, workerId: string): Promise<void> {
    await orUnavailable(() =>
      this.touchScript.run(channelScriptKeys(channel, workerId), [this.timings.keyTtlMs]),
    );
  }

  /**
   * Removes up to `batch` connections of a dead worker from a channel,
   * announcing the changes; returns them and how many of its entries remain.
   */
  async reap(
    channel: string,
    deadWorkerId: string,
    batch: number,
  ): Promise<{ changes: PresenceChange[]; remaining: number }> {
    const [remaining, ...triples] = await orUnavailable(() =>
      this.reapScript.run(channelScriptKeys(channel, deadWorkerId), [
        ...this.bus(channel),
        deadWorkerId,
        batch,
        this.timings.keyTtlMs,
        this.recoveryMs,
      ]),
    );
    const changes: PresenceChange[] = [];
    for (let i = 0; i + 2 < triples.length; i += 3) {
      const [kind, member, offset] = triples.slice(i, i + 3).map(String);
      const change = changeOf(channel, kind, member, offset);
      if (change) changes.push(change);
    }
    return { changes, remaining: Number(remaining) };
  }

  /** The scripts' first arguments: where and how to announce a change in `channel`. */
  private bus(channel: string, exceptConnectionId = ''): string[] {
    const room = roomOf(channel);
    return [
      channel,
      room,
      busChannelOf(this.redis.keyPrefix, room),
      this.busMode,
      exceptConnectionId,
    ];
  }
}
