/**
 * Redis layout of presence. Every key of one channel carries the hash tag
 * `{<channel>}`, so the scripts that change a channel touch one Redis Cluster
 * slot; the two lease sets share the tag `{workers}`; a worker's channel index
 * carries its own id as tag.
 *
 *   presence:{<channel>}:members            hash  userId → member JSON (what clients are shown)
 *   presence:{<channel>}:conns              hash  userId → JSON of the user's connections here
 *   presence:{<channel>}:worker:<workerId>  set   "<userId> <connectionId>" held by that worker
 *   presence:{<channel>}:offset             string  the offset of the channel's last event
 *   presence:{<channel>}:history            stream  the channel's last messages, id <offset>-0 (CHANNEL_HISTORY_*)
 *   presence:{<channel>}:events             stream  every event sent to the channel, id <offset>-0, for connection recovery (REALTIME_RECOVERY_MS)
 *   presence:worker:{<workerId>}:channels   set   channels where the worker has connections
 *   presence:{workers}:leases               zset  workerId → lease expiry (ms, Redis clock)
 *   presence:{workers}:reaped               zset  workerId → when its final sweep is due (ms)
 *
 * Every key has a TTL that live workers keep pushing forward; a channel's
 * history lives CHANNEL_HISTORY_TTL after its last message.
 */
export const membersKey = (channel: string): string => `presence:{${channel}}:members`;

export const connectionsKey = (channel: string): string => `presence:{${channel}}:conns`;

export const workerConnectionsKey = (channel: string, workerId: string): string =>
  `presence:{${channel}}:worker:${workerId}`;

/**
 * The channel's event counter: every presence event carries the offset it
 * gives, and a join's acknowledgement the offset its member list is current to.
 */
export const offsetKey = (channel: string): string => `presence:{${channel}}:offset`;

/** The channel's recent messages: a capped stream whose ids are the messages' offsets. */
export const historyKey = (channel: string): string => `presence:{${channel}}:history`;

/**
 * The channel's recovery log: every event sent to its members (messages and
 * presence changes), kept REALTIME_RECOVERY_MS after the last one, at most
 * 1000, for replaying them to a socket that recovers its connection.
 */
export const eventsKey = (channel: string): string => `presence:{${channel}}:events`;

export const workerChannelsKey = (workerId: string): string =>
  `presence:worker:{${workerId}}:channels`;

export const LEASES_KEY = 'presence:{workers}:leases';
export const REAPED_KEY = 'presence:{workers}:reaped';

/** The keys a channel script touches, in the order the scripts take them. */
export const channelScriptKeys = (
  channel: string,
  workerId: string,
): [string, string, string, string, string] => [
  membersKey(channel),
  connectionsKey(channel),
  workerConnectionsKey(channel, workerId),
  offsetKey(channel),
  eventsKey(channel),
];

/** The sharded adapter publishes a 20-character room (it takes it for a socket id) on its main channel. */
const SOCKET_ID_LENGTH = 20;

/**
 * The Socket.IO room of a channel. Prefixed, so that no channel name can
 * coincide with a socket id (every socket is in a room named by its id); with
 * the channel's hash tag, so that the room's sharded pub/sub channel lives in
 * the slot of the channel's keys and the presence scripts can publish to it;
 * never 20 characters long, so the sharded adapter publishes it on that
 * channel and not on its main one.
 */
export function roomOf(channel: string): string {
  const room = `channel:{${channel}}`;
  return room.length === SOCKET_ID_LENGTH ? `${room}:` : room;
}

/**
 * Name of the Socket.IO Redis adapter's pub/sub channels (before KEY_PREFIX),
 * shared by the realtime app's adapter, the presence scripts and every emitter.
 */
export const SOCKET_IO_BUS = 'socket.io';

/**
 * The pub/sub channel on which the adapter (classic and sharded alike)
 * carries broadcasts to one room of a namespace (the main one by default).
 */
export const busChannelOf = (keyPrefix: string, room: string, namespace = '/'): string =>
  `${keyPrefix}${SOCKET_IO_BUS}#${namespace}#${room}#`;

/**
 * How the adapter and the emitter encode bus messages: JSON rather than their
 * default MessagePack, so that the presence scripts can write them in Lua.
 * Payloads are plain JSON anyway (binary is refused at the edge).
 */
export const BUS_PARSER = {
  encode: (message: unknown): string => JSON.stringify(message),
  decode: (message: Buffer | string): unknown => JSON.parse(message.toString()),
};
