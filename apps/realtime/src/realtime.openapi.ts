import type { ApiDocumentInfo } from '@lattice/http';
import { PresenceController } from './presence/presence.controller';

/**
 * The HTTP controllers of the realtime app: its feature modules register
 * exactly these (realtime.openapi.spec.ts checks it). Socket.IO events are
 * described in CONTRACT 5, not in the document.
 */
export const REALTIME_CONTROLLERS = [PresenceController];

/**
 * The realtime app's own OpenAPI document (its GET /docs/json), which the
 * gateway merges into the platform's: the routes under /realtime, reached
 * through the gateway at the same paths.
 */
export const REALTIME_DOCUMENT: ApiDocumentInfo = {
  title: 'Lattice realtime',
  description:
    "The realtime app's HTTP routes. Clients reach them through the gateway at the same paths; the gateway's `/docs/json` describes the whole platform. Socket.IO (`/socket.io/`) is described in the platform contract.",
  tags: [{ name: 'presence', description: 'Who is in a realtime channel (realtime app)' }],
};
