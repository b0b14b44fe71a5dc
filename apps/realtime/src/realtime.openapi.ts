import { PresenceController } from './presence/presence.controller';

/**
 * The HTTP controllers of the realtime app: RealtimeModule registers exactly
 * these, and the gateway's OpenAPI document describes them (a
 * documentation-only import: the gateway reads their route metadata and never
 * instantiates them). Socket.IO events are described in CONTRACT 5, not here.
 */
export const REALTIME_CONTROLLERS = [PresenceController];
