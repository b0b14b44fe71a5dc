import type { AppName } from './config.schema';
import type { HostPort, RatePolicy } from './env.parsers';
import type { UpstreamRoute } from './routes.schema';

export interface HttpConfig {
  port: number;
  host: string;
  trustProxy: boolean;
  allowedOrigins: string[];
  cookieSecure: boolean;
  /** How long readiness answers 503 after SIGTERM before the server stops accepting. */
  shutdownDelayMs: number;
}

export type RedisConfig =
  | { mode: 'standalone'; url: string; keyPrefix: string }
  | { mode: 'cluster'; nodes: HostPort[]; keyPrefix: string }
  | { mode: 'sentinel'; sentinels: HostPort[]; masterName: string; keyPrefix: string };

export interface RateLimitConfig {
  ip: RatePolicy;
  user: RatePolicy;
  login: RatePolicy;
  failMode: 'open' | 'closed';
  /**
   * 0: every request is decided in Redis (exact). Above 0: an instance may
   * reserve a slice of a busy counter for this many ms and decide from it
   * locally (never over the limit; may refuse early, see docs/rate-limit.md).
   */
  leaseMs: number;
}

export interface SessionConfig {
  idleTtlSeconds: number;
  absoluteTtlSeconds: number;
}

export interface LockConfig {
  /**
   * Independent Redis nodes that must grant a lock by majority (the Redlock
   * algorithm). Empty: locks live on the app's own Redis connection.
   */
  quorumUrls: string[];
}

/** What one client of the gateway may hold, so that it cannot stop the edge answering others. */
export interface ClientLimitsConfig {
  /** How long a client may take to send a request's headers. */
  headersTimeoutMs: number;
  /** How long a client may take to send a whole request, headers and body. */
  requestTimeoutMs: number;
  /** Open connections per client address (0: no cap); not applied with TRUST_PROXY=true. */
  connectionsPerClient: number;
  /** Request bodies one client may be sending at once (0: no cap). */
  uploadsPerClient: number;
}

export interface Config {
  app: AppName;
  http: HttpConfig;
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
    /** `pretty`: one readable line per entry (pino-pretty); `json`: one JSON object per line. */
    format: 'json' | 'pretty';
  };
  redis: RedisConfig;
  rateLimit: RateLimitConfig;
  session: SessionConfig;
  admin: { login: string; password: string } | null;
  verification: { networks: string[]; ttlSeconds: number };
  gateway: {
    authUrl: string;
    realtimeUrl: string;
    routes: UpstreamRoute[];
    /** How long an upstream may take to start answering, and may stay silent mid-body. */
    upstreamTimeoutMs: number;
    clientLimits: ClientLimitsConfig;
  };
  cacheSync: { token: string | null; allowedHosts: string[] };
  prizeDraw: { githubApiUrl: string };
  presence: { heartbeatMs: number; ttlMs: number };
  /** The realtime app's own settings. */
  realtime: {
    /** The origin at which gateways reach this instance (ADVERTISE_URL). */
    advertiseUrl: string;
    /** Messages kept per channel for `channel:history` (0: none), and how long after the last one. */
    history: { size: number; ttlSeconds: number };
    /** How long a disconnected socket can come back and recover its state (0: never). */
    recoveryMs: number;
  };
  lock: LockConfig;
}
