import { z } from 'zod';
import {
  boolean,
  hostPortList,
  integer,
  list,
  origin,
  oneOf,
  optional,
  ratePolicy,
  url,
  urlList,
  withDefault,
} from './env.parsers';
import { parseRoutes } from './routes.schema';

export const APP_NAMES = ['gateway', 'auth', 'realtime'] as const;
export type AppName = (typeof APP_NAMES)[number];

export const DEFAULT_PORTS: Record<AppName, number> = { gateway: 3000, auth: 3001, realtime: 3002 };

const LOGIN = /^[A-Za-z0-9_.-]{3,32}$/;
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const HOST_WITH_OPTIONAL_PORT = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

const routes = z.string().transform((raw, ctx) => {
  const result = parseRoutes(raw);
  if (result.ok) return result.routes;
  for (const error of result.errors) ctx.addIssue({ code: 'custom', message: error });
  return z.NEVER;
});

/**
 * The whole environment table of the contract. Every app validates every
 * variable, so a deployment that shares one environment between apps hears
 * about a bad value from all of them at once.
 */
export const envSchema = z.object({
  PORT: optional(integer(1, 65535)),
  HOST: withDefault(
    z.string().regex(/^[A-Za-z0-9.:-]+$/, { message: 'must be a host name or IP address' }),
    '127.0.0.1',
  ),
  REDIS_URL: withDefault(url(['redis', 'rediss']), 'redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: optional(hostPortList()),
  REDIS_SENTINELS: optional(hostPortList()),
  REDIS_SENTINEL_NAME: optional(
    z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be a master name' }),
  ),
  KEY_PREFIX: withDefault(
    z.string().regex(/^[A-Za-z0-9:_.{}-]{0,64}$/, {
      message: 'must be at most 64 characters of A-Z a-z 0-9 : _ . - { }',
    }),
    '',
  ),
  LOG_LEVEL: withDefault(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace']), 'info'),
  // Unset: pretty when standard output is a terminal, JSON otherwise.
  LOG_FORMAT: optional(oneOf(['json', 'pretty'])),
  TRUST_PROXY: withDefault(boolean(), 'false'),
  // Read by the tracing bootstrap (libs/observability/src/tracing.ts) before the rest; validated here.
  TRACE_TRUST_CLIENT: withDefault(boolean(), 'false'),
  AUTH_URL: withDefault(url(['http', 'https']), 'http://127.0.0.1:3001'),
  REALTIME_URL: withDefault(url(['http', 'https']), 'http://127.0.0.1:3002'),
  ROUTES: withDefault(routes, '[]'),
  UPSTREAM_TIMEOUT_MS: withDefault(integer(100, 600_000), '30000'),
  CLIENT_HEADERS_TIMEOUT_MS: withDefault(integer(1000, 600_000), '10000'),
  CLIENT_REQUEST_TIMEOUT_MS: withDefault(integer(1000, 3_600_000), '60000'),
  MAX_CONNECTIONS_PER_CLIENT: withDefault(integer(0, 1_000_000), '256'),
  MAX_UPLOADS_PER_CLIENT: withDefault(integer(0, 1_000_000), '16'),
  RATE_LIMIT_IP: withDefault(ratePolicy(), '600/60'),
  RATE_LIMIT_USER: withDefault(ratePolicy(), '1200/60'),
  RATE_LIMIT_LOGIN: withDefault(ratePolicy(), '10/300'),
  RATE_LIMIT_FAIL: withDefault(oneOf(['open', 'closed']), 'open'),
  RATE_LIMIT_LEASE_MS: withDefault(integer(0, 1000), '0'),
  SESSION_IDLE_TTL: withDefault(integer(1, 31_536_000), '1209600'),
  SESSION_ABSOLUTE_TTL: withDefault(integer(1, 31_536_000), '2592000'),
  COOKIE_SECURE: withDefault(boolean(), 'false'),
  ALLOWED_ORIGINS: withDefault(list(ORIGIN, 'origins like https://app.example.com'), ''),
  ADMIN_LOGIN: optional(
    z.string().regex(LOGIN, { message: 'must be 3 to 32 characters of a-z A-Z 0-9 _ . -' }),
  ),
  ADMIN_PASSWORD: optional(
    z
      .string()
      .min(8, { message: 'must be 8 to 128 characters' })
      .max(128, { message: 'must be 8 to 128 characters' }),
  ),
  VERIFICATION_NETWORKS: withDefault(
    list(/^[a-z0-9-]{1,32}$/, 'network names of a-z 0-9 -'),
    'polkadot,kusama',
  ),
  VERIFICATION_TTL: withDefault(integer(1, 31_536_000), '86400'),
  CACHE_SYNC_TOKEN: optional(
    z
      .string()
      .min(16, { message: 'must be at least 16 characters' })
      .max(512, { message: 'must be at most 512 characters' }),
  ),
  CACHE_SYNC_ALLOWED_HOSTS: withDefault(
    list(HOST_WITH_OPTIONAL_PORT, 'host names with an optional :port'),
    '',
  ),
  GITHUB_API_URL: withDefault(url(['http', 'https']), 'https://api.github.com'),
  PRESENCE_HEARTBEAT_MS: withDefault(integer(100, 600_000), '5000'),
  PRESENCE_TTL_MS: withDefault(integer(300, 3_600_000), '15000'),
  // Unset: http://HOST:PORT (see load-config).
  ADVERTISE_URL: optional(origin()),
  CHANNEL_HISTORY_SIZE: withDefault(integer(0, 10_000), '100'),
  CHANNEL_HISTORY_TTL: withDefault(integer(1, 31_536_000), '86400'),
  // 0 turns Socket.IO connection state recovery off.
  REALTIME_RECOVERY_MS: withDefault(integer(0, 3_600_000), '120000'),
  SHUTDOWN_DELAY_MS: withDefault(integer(0, 120_000), '0'),
  // Independent Redis masters for quorum locks: with fewer than 3, losing one node stops all locking.
  LOCK_QUORUM_URLS: optional(urlList(['redis', 'rediss'], 3)),
});

export type Env = z.infer<typeof envSchema>;
