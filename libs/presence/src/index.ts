export { PresenceModule } from './presence.module';
export { PresenceStore } from './presence.store';
export { PresenceLeases } from './presence.leases';
export { PresenceReaper } from './presence.reaper';
export { PresencePublisher } from './presence.publisher';
export { SocketRoutesRepository } from './socket-routes.repository';
export { SESSION_ID, sessionRouteKey, INSTANCES_KEY } from './socket-routes-keys';
export type { PublishOptions } from './presence.publisher';
export { NotAMemberError, PresenceUnavailableError } from './presence.errors';
export { presenceTimings } from './presence-timings';
export type { PresenceTimings } from './presence-timings';
export {
  CHANNEL_NAME,
  MAX_META_BYTES,
  channelNameSchema,
  metaSchema,
  isJsonValue,
  jsonBytes,
  mayAccessChannel,
  userChannelOwner,
} from './presence-input';
export {
  roomOf,
  busChannelOf,
  BUS_PARSER,
  SOCKET_IO_BUS,
  membersKey,
  connectionsKey,
  workerConnectionsKey,
  offsetKey,
  eventsKey,
  workerChannelsKey,
  LEASES_KEY,
  REAPED_KEY,
} from './presence-keys';
export type {
  PresenceMember,
  PresenceMeta,
  PresenceChange,
  PresenceChangeKind,
  PresenceIdentity,
  PresenceConnection,
} from './presence.types';
export { ApiPresenceListing, listPresence, presenceListingSchema } from './presence-listing';
export { PresenceChannelParams } from './presence.dto';
