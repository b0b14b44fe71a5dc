/** JSON object as carried in `meta`. */
export type PresenceMeta = Record<string, unknown>;

/** One user present in a channel, however many connections they have there. */
export interface PresenceMember {
  userId: string;
  login: string;
  /** Display name from the user's profile (`user:<id>` field `name`), else the login. */
  name: string;
  /** The meta most recently set by any of the user's connections in the channel. */
  meta: PresenceMeta;
  /** How many of the user's connections are in the channel (0 in a `left` event). */
  connections: number;
  /** When the user's first current connection joined (ISO 8601). */
  joinedAt: string;
}

export type PresenceChangeKind = 'joined' | 'left' | 'updated';

/** What the other members of a channel are told after a change in Redis. */
export interface PresenceChange {
  kind: PresenceChangeKind;
  channel: string;
  member: PresenceMember;
  /** The event's place among the channel's events: 16 decimal digits, increasing per channel. */
  offset: string;
}

/** Who a connection speaks for, as recorded in presence. */
export interface PresenceIdentity {
  userId: string;
  login: string;
  name: string;
}

/** One connection of one user, held by one realtime worker. */
export interface PresenceConnection extends PresenceIdentity {
  channel: string;
  connectionId: string;
  workerId: string;
}
