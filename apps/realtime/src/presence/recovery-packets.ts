import type { Socket } from 'socket.io';

/** The events a recovered socket gets again: what the presence scripts log (presence-shared.lua). */
const RECOVERABLE = new Set([
  'channel:message',
  'presence:joined',
  'presence:left',
  'presence:updated',
]);

type Packet = { type?: number; data?: unknown; id?: number };
export type PacketOptions = { volatile?: boolean; compress?: boolean };

/** A broadcast being applied: the packet, its encoding, and the channel event it is (if one). */
export interface Broadcast {
  packet: unknown;
  encoded: unknown[];
  options: PacketOptions;
  /** The channel event's channel and offset; null for another event ending in a string. */
  event: { channel: string; offset: string } | null;
  /** The characters the event's own position takes at the end of its encoding (0: none). */
  tail: number;
}

/** A recoverable event's channel and offset, or null for any other packet. */
export function recoverable(packet: Packet): { channel: string; offset: string } | null {
  if (packet.type !== 2 || !Array.isArray(packet.data) || packet.data.length !== 2) return null;
  const [event, payload] = packet.data as [unknown, unknown];
  if (typeof event !== 'string' || !RECOVERABLE.has(event)) return null;
  if (typeof payload !== 'object' || payload === null) return null;
  const { channel, offset } = payload as { channel?: unknown; offset?: unknown };
  if (typeof channel !== 'string' || typeof offset !== 'string') return null;
  return { channel, offset };
}

/**
 * Another event (a PresencePublisher's, say) whose last argument is a string:
 * Socket.IO's client would keep that string as its position, so the event
 * gets one more argument, the socket's position.
 */
export function trailingString(packet: Packet): boolean {
  return (
    packet.type === 2 &&
    packet.id === undefined &&
    Array.isArray(packet.data) &&
    packet.data.length > 1 &&
    typeof packet.data[packet.data.length - 1] === 'string'
  );
}

/**
 * Writes an event to one socket at once, in order with what the adapter
 * delivers to it. Socket.emit cannot: with recovery on it goes through the
 * adapter, and a cluster adapter publishes the event to the bus and waits
 * for Redis before delivering it, so live events would overtake it.
 */
export function writeEvent(socket: Socket, data: unknown[]): void {
  (socket as unknown as { packet(packet: { type: number; data: unknown[] }): void }).packet({
    type: 2,
    data,
  });
}

/**
 * Writes a broadcast to one socket with `position` as its last argument, in
 * place of the event's own; false when its encoding cannot take one (binary).
 */
export function writeWithPosition(socket: Socket, broadcast: Broadcast, position: string): boolean {
  const [encoded] = broadcast.encoded;
  if (broadcast.encoded.length !== 1 || typeof encoded !== 'string') return false;
  const cut = encoded.length - 1 - broadcast.tail;
  const text = `${encoded.slice(0, cut)},${JSON.stringify(position)}]`;
  const engine = socket as unknown as {
    client: { writeToEngine(packets: unknown[], options: unknown): void };
    notifyOutgoingListeners?: (packet: unknown) => void;
  };
  engine.notifyOutgoingListeners?.(broadcast.packet);
  // Not the broadcast's pre-encoded WebSocket frame: this socket's text differs.
  const { volatile, compress } = broadcast.options;
  engine.client.writeToEngine([text], { preEncoded: true, volatile, compress });
  return true;
}
