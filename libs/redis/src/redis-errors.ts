/**
 * Errors that mean "Redis cannot serve this command right now" rather than a
 * bug: no connection (nothing is queued while disconnected), a connection
 * lost with the command in flight, the 2 s command timeout, the replies of a
 * node that is not (or not yet) the master: READONLY (a master demoted to
 * replica by a failover), LOADING, MASTERDOWN, CLUSTERDOWN, TRYAGAIN, and the
 * replies of a master refusing work: OOM (over `maxmemory` with
 * `noeviction`), EXECABORT (a MULTI whose commands were refused, by OOM for
 * one), BUSY (a script running past its time limit), NOREPLICAS (fewer
 * replicas than `min-replicas-to-write`), and ioredis giving up routing a
 * command on a cluster (`Too many Cluster redirections`: during a failover
 * its retries meet CLUSTERDOWN, MOVED to the dead master, or a closed
 * connection until they run out). Each is answered 503 UNAVAILABLE.
 */
const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Connection is closed.',
  'Command timed out',
  "Cluster isn't ready and enableOfflineQueue options is false",
  'Cluster is disconnected.',
  'None of startup nodes is available',
  'Reached the max retries per request limit',
  'Too many Cluster redirections',
];
const UNAVAILABLE_REPLIES =
  /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|OOM|EXECABORT|BUSY|NOREPLICAS)\b/;

/** The error-reply prefix that tells a client it is talking to a replica. */
export const READONLY_REPLY = 'READONLY';

export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { message } = error;
  return (
    UNAVAILABLE_REPLIES.test(message) ||
    UNAVAILABLE_MESSAGES.some((prefix) => message.startsWith(prefix))
  );
}
