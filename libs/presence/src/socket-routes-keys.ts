/**
 * Redis layout of Socket.IO session routing: which realtime instance owns
 * each Engine.IO session, and which instances are alive. A session's key is
 * alone in its slot; the registry is one key.
 *
 *   realtime:session:<sid>    string  the owning instance's ADVERTISE_URL (TTL refreshed while it lives)
 *   realtime:{instances}      zset    ADVERTISE_URL → when its announcement lapses (ms, Redis clock)
 */
export const sessionRouteKey = (sid: string): string => `realtime:session:${sid}`;

export const INSTANCES_KEY = 'realtime:{instances}';

/**
 * What an Engine.IO session id looks like (base64id: 20 characters of
 * A-Z a-z 0-9 _ -, with some room): anything else is not looked up.
 */
export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
