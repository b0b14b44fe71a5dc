import { APP_NAMES, DEFAULT_PORTS, envSchema, type AppName, type Env } from './config.schema';
import { ConfigValidationError } from './config.errors';
import type { Config, RedisConfig } from './config.types';

/**
 * Validates the environment once and turns it into the typed configuration.
 * Throws ConfigValidationError with one line per bad variable; values are never
 * echoed, as some of them are secrets.
 */
export function loadConfig(app: AppName, env: NodeJS.ProcessEnv = process.env): Config {
  if (!APP_NAMES.includes(app)) throw new ConfigValidationError([`unknown app "${app}"`]);
  // Each variable on its own, so that every bad one is reported, and the checks
  // across variables still run on the ones that parsed.
  const parsed: Partial<Env> = {};
  const problems: string[] = [];
  for (const [variable, schema] of Object.entries(envSchema.shape)) {
    const result = schema.safeParse(env[variable]);
    if (result.success) (parsed as Record<string, unknown>)[variable] = result.data;
    else
      problems.push(...dedupe(result.error.issues.map((issue) => `${variable}: ${issue.message}`)));
  }
  problems.push(...crossChecks(parsed));
  if (problems.length) throw new ConfigValidationError(problems);
  return toConfig(app, parsed as Env);
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

function crossChecks(env: Partial<Env>): string[] {
  const problems: string[] = [];
  if (env.REDIS_CLUSTER_NODES && env.REDIS_SENTINELS) {
    problems.push('REDIS_CLUSTER_NODES: must not be set together with REDIS_SENTINELS');
  }
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
    problems.push('REDIS_SENTINEL_NAME: must be set when REDIS_SENTINELS is set');
  }
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) {
    problems.push('REDIS_SENTINELS: must be set when REDIS_SENTINEL_NAME is set');
  }
  if (Boolean(env.ADMIN_LOGIN) !== Boolean(env.ADMIN_PASSWORD)) {
    problems.push(
      `${env.ADMIN_LOGIN ? 'ADMIN_PASSWORD' : 'ADMIN_LOGIN'}: must be set together with the other of ADMIN_LOGIN and ADMIN_PASSWORD`,
    );
  }
  const { SESSION_IDLE_TTL: idle, SESSION_ABSOLUTE_TTL: absolute } = env;
  if (idle !== undefined && absolute !== undefined && idle > absolute) {
    problems.push('SESSION_IDLE_TTL: must not be greater than SESSION_ABSOLUTE_TTL');
  }
  const { CLIENT_HEADERS_TIMEOUT_MS: headers, CLIENT_REQUEST_TIMEOUT_MS: request } = env;
  if (headers !== undefined && request !== undefined && headers > request) {
    problems.push('CLIENT_HEADERS_TIMEOUT_MS: must not be greater than CLIENT_REQUEST_TIMEOUT_MS');
  }
  const { PRESENCE_TTL_MS: ttl, PRESENCE_HEARTBEAT_MS: heartbeat } = env;
  if (ttl !== undefined && heartbeat !== undefined && ttl <= heartbeat) {
    problems.push('PRESENCE_TTL_MS: must be greater than PRESENCE_HEARTBEAT_MS');
  }
  return problems;
}

function redisConfig(env: Env): RedisConfig {
  const keyPrefix = env.KEY_PREFIX;
  if (env.REDIS_CLUSTER_NODES)
    return { mode: 'cluster', nodes: env.REDIS_CLUSTER_NODES, keyPrefix };
  if (env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    return {
      mode: 'sentinel',
      sentinels: env.REDIS_SENTINELS,
      masterName: env.REDIS_SENTINEL_NAME,
      keyPrefix,
    };
  }
  return { mode: 'standalone', url: env.REDIS_URL, keyPrefix };
}

function toConfig(app: AppName, env: Env): Config {
  return {
    app,
    http: {
      port: env.PORT ?? DEFAULT_PORTS[app],
      host: env.HOST,
      trustProxy: env.TRUST_PROXY,
      allowedOrigins: env.ALLOWED_ORIGINS,
      cookieSecure: env.COOKIE_SECURE,
      shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    },
    log: {
      level: env.LOG_LEVEL,
      format: env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    },
    redis: redisConfig(env),
    rateLimit: {
      ip: env.RATE_LIMIT_IP,
      user: env.RATE_LIMIT_USER,
      login: env.RATE_LIMIT_LOGIN,
      failMode: env.RATE_LIMIT_FAIL,
      leaseMs: env.RATE_LIMIT_LEASE_MS,
    },
    session: { idleTtlSeconds: env.SESSION_IDLE_TTL, absoluteTtlSeconds: env.SESSION_ABSOLUTE_TTL },
    admin:
      env.ADMIN_LOGIN && env.ADMIN_PASSWORD
        ? { login: env.ADMIN_LOGIN, password: env.ADMIN_PASSWORD }
        : null,
    verification: { networks: env.VERIFICATION_NETWORKS, ttlSeconds: env.VERIFICATION_TTL },
    gateway: {
      authUrl: env.AUTH_URL,
      realtimeUrl: env.REALTIME_URL,
      routes: env.ROUTES,
      upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
      clientLimits: {
        headersTimeoutMs: env.CLIENT_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: env.CLIENT_REQUEST_TIMEOUT_MS,
        connectionsPerClient: env.MAX_CONNECTIONS_PER_CLIENT,
        uploadsPerClient: env.MAX_UPLOADS_PER_CLIENT,
      },
    },
    cacheSync: { token: env.CACHE_SYNC_TOKEN ?? null, allowedHosts: env.CACHE_SYNC_ALLOWED_HOSTS },
    prizeDraw: { githubApiUrl: env.GITHUB_API_URL },
    presence: { heartbeatMs: env.PRESENCE_HEARTBEAT_MS, ttlMs: env.PRESENCE_TTL_MS },
    realtime: {
      advertiseUrl:
        env.ADVERTISE_URL ?? defaultAdvertiseUrl(env.HOST, env.PORT ?? DEFAULT_PORTS[app]),
      history: { size: env.CHANNEL_HISTORY_SIZE, ttlSeconds: env.CHANNEL_HISTORY_TTL },
      recoveryMs: env.REALTIME_RECOVERY_MS,
    },
    lock: { quorumUrls: env.LOCK_QUORUM_URLS ?? [] },
  };
}

/** `http://HOST:PORT`, with an IPv6 address in brackets. */
function defaultAdvertiseUrl(host: string, port: number): string {
  return new URL(`http://${host.includes(':') ? `[${host}]` : host}:${port}`).origin;
}
