import { ConfigValidationError } from './config.errors';
import { loadConfig } from './load-config';

function problemsFor(env: Record<string, string>): string[] {
  try {
    loadConfig('gateway', env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be refused');
}

describe('loadConfig', () => {
  it('applies the contract defaults to an empty environment', () => {
    const config = loadConfig('auth', {});
    expect(config.http).toMatchObject({
      port: 3001,
      host: '127.0.0.1',
      trustProxy: false,
      cookieSecure: false,
    });
    expect(config.redis).toEqual({
      mode: 'standalone',
      url: 'redis://127.0.0.1:6379',
      keyPrefix: '',
    });
    expect(config.rateLimit).toEqual({
      ip: { limit: 600, windowSeconds: 60 },
      user: { limit: 1200, windowSeconds: 60 },
      login: { limit: 10, windowSeconds: 300 },
      failMode: 'open',
      leaseMs: 0,
    });
    expect(config.session).toEqual({ idleTtlSeconds: 1209600, absoluteTtlSeconds: 2592000 });
    expect(config.verification).toEqual({ networks: ['polkadot', 'kusama'], ttlSeconds: 86400 });
    expect(config.gateway).toEqual({
      authUrl: 'http://127.0.0.1:3001',
      realtimeUrl: 'http://127.0.0.1:3002',
      routes: [],
      upstreamTimeoutMs: 30000,
      clientLimits: {
        headersTimeoutMs: 10000,
        requestTimeoutMs: 60000,
        connectionsPerClient: 256,
        uploadsPerClient: 16,
      },
    });
    expect(config.presence).toEqual({ heartbeatMs: 5000, ttlMs: 15000 });
    expect(config.admin).toBeNull();
    expect(config.cacheSync).toEqual({ token: null, allowedHosts: [] });
    expect(config.lock).toEqual({ quorumUrls: [] });
    expect(config.realtime).toEqual({
      advertiseUrl: 'http://127.0.0.1:3001',
      history: { size: 100, ttlSeconds: 86400 },
      recoveryMs: 120000,
    });
    expect(loadConfig('gateway', {}).http.port).toBe(3000);
    expect(loadConfig('realtime', {}).http.port).toBe(3002);
  });

  it.each([
    ['PORT', 'abc', 'PORT: must be an integer from 1 to 65535'],
    ['PORT', '70000', 'PORT: must be an integer from 1 to 65535'],
    ['REDIS_URL', 'ftp://x', 'REDIS_URL: must be a URL starting with redis:// or rediss://'],
    ['RATE_LIMIT_IP', 'ten', 'RATE_LIMIT_IP: must be "limit/windowSeconds"'],
    ['RATE_LIMIT_LEASE_MS', '5000', 'RATE_LIMIT_LEASE_MS: must be an integer from 0 to 1000'],
    ['RATE_LIMIT_FAIL', 'maybe', 'RATE_LIMIT_FAIL: must be one of open, closed'],
    ['TRUST_PROXY', 'yes', 'TRUST_PROXY: must be "true" or "false"'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace'],
    ['LOG_FORMAT', 'xml', 'LOG_FORMAT: must be one of json, pretty'],
    [
      'REDIS_CLUSTER_NODES',
      'a:1,b',
      'REDIS_CLUSTER_NODES: must be a comma-separated list of host:port',
    ],
    [
      'ALLOWED_ORIGINS',
      'example.com',
      'ALLOWED_ORIGINS: must be a comma-separated list of origins',
    ],
    ['KEY_PREFIX', 'a b', 'KEY_PREFIX: must be at most 64 characters'],
    ['CACHE_SYNC_TOKEN', 'short', 'CACHE_SYNC_TOKEN: must be at least 16 characters'],
    [
      'CLIENT_HEADERS_TIMEOUT_MS',
      '500',
      'CLIENT_HEADERS_TIMEOUT_MS: must be an integer from 1000 to 600000',
    ],
    [
      'CLIENT_HEADERS_TIMEOUT_MS',
      '90000',
      'CLIENT_HEADERS_TIMEOUT_MS: must not be greater than CLIENT_REQUEST_TIMEOUT_MS',
    ],
    ['MAX_UPLOADS_PER_CLIENT', '-1', 'MAX_UPLOADS_PER_CLIENT: must be an integer from 0 to'],
    ['CHANNEL_HISTORY_SIZE', '-1', 'CHANNEL_HISTORY_SIZE: must be an integer from 0 to 10000'],
    ['CHANNEL_HISTORY_TTL', '0', 'CHANNEL_HISTORY_TTL: must be an integer from 1 to 31536000'],
    ['REALTIME_RECOVERY_MS', '-5', 'REALTIME_RECOVERY_MS: must be an integer from 0 to 3600000'],
    ['ADVERTISE_URL', 'realtime-1:3002', 'ADVERTISE_URL: must be an http:// or https:// URL'],
    ['ADVERTISE_URL', 'http://10.0.0.7:3002/x', 'ADVERTISE_URL: must be an http:// or https://'],
    ['ADVERTISE_URL', 'http://user:pw@10.0.0.7', 'ADVERTISE_URL: must be an http:// or https://'],
  ])('refuses %s=%s with one line naming it', (variable, value, expected) => {
    const problems = problemsFor({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it('advertises http://HOST:PORT unless ADVERTISE_URL says otherwise', () => {
    expect(loadConfig('realtime', { PORT: '4100' }).realtime.advertiseUrl).toBe(
      'http://127.0.0.1:4100',
    );
    expect(loadConfig('realtime', { HOST: '::1' }).realtime.advertiseUrl).toBe('http://[::1]:3002');
    expect(
      loadConfig('realtime', { ADVERTISE_URL: 'https://RT-1.internal:8443/' }).realtime
        .advertiseUrl,
    ).toBe('https://rt-1.internal:8443');
  });

  it('logs JSON unless standard output is a terminal, and LOG_FORMAT forces either', () => {
    const wasTty = process.stdout.isTTY;
    try {
      process.stdout.isTTY = false;
      expect(loadConfig('gateway', {}).log.format).toBe('json');
      expect(loadConfig('gateway', { LOG_FORMAT: 'pretty' }).log.format).toBe('pretty');
      process.stdout.isTTY = true;
      expect(loadConfig('gateway', {}).log.format).toBe('pretty');
      expect(loadConfig('gateway', { LOG_FORMAT: 'json' }).log.format).toBe('json');
    } finally {
      process.stdout.isTTY = wasTty;
    }
  });

  it('reports every bad variable, one line each, without echoing values', () => {
    const problems = problemsFor({
      PORT: 'abc',
      REDIS_URL: 'ftp://secret@x',
      RATE_LIMIT_IP: 'ten',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'PORT',
      'RATE_LIMIT_IP',
      'REDIS_URL',
    ]);
    expect(problems.join('\n')).not.toContain('secret');
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig('gateway', { PORT: '', KEY_PREFIX: '' }).http.port).toBe(3000);
  });

  it('chooses Cluster or Sentinel when their variables are set, and refuses both at once', () => {
    expect(
      loadConfig('gateway', { REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001' }).redis,
    ).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
      keyPrefix: '',
    });
    expect(
      loadConfig('gateway', {
        REDIS_SENTINELS: 's1:26379',
        REDIS_SENTINEL_NAME: 'main',
        KEY_PREFIX: 'app:',
      }).redis,
    ).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }],
      masterName: 'main',
      keyPrefix: 'app:',
    });
    expect(problemsFor({ REDIS_SENTINELS: 's1:26379' })).toEqual([
      'REDIS_SENTINEL_NAME: must be set when REDIS_SENTINELS is set',
    ]);
    expect(
      problemsFor({
        REDIS_CLUSTER_NODES: 'a:1',
        REDIS_SENTINELS: 's:2',
        REDIS_SENTINEL_NAME: 'm',
      })[0],
    ).toMatch(/^REDIS_CLUSTER_NODES: must not be set together/);
  });

  it('needs ADMIN_LOGIN and ADMIN_PASSWORD together', () => {
    expect(problemsFor({ ADMIN_LOGIN: 'root' })).toEqual([
      'ADMIN_PASSWORD: must be set together with the other of ADMIN_LOGIN and ADMIN_PASSWORD',
    ]);
    expect(
      loadConfig('auth', { ADMIN_LOGIN: 'root', ADMIN_PASSWORD: 'long-enough' }).admin,
    ).toEqual({
      login: 'root',
      password: 'long-enough',
    });
  });

  it('parses ROUTES and explains what is wrong with a bad one', () => {
    const routes = loadConfig('gateway', {
      ROUTES: JSON.stringify([
        {
          prefix: '/orders',
          upstream: 'http://127.0.0.1:4000',
          auth: 'required',
          rateLimit: '5/10',
        },
      ]),
    }).gateway.routes;
    expect(routes).toEqual([
      {
        prefix: '/orders',
        upstream: 'http://127.0.0.1:4000',
        auth: 'required',
        rateLimit: { limit: 5, windowSeconds: 10 },
      },
    ]);
    expect(problemsFor({ ROUTES: '{not json' })).toEqual([
      'ROUTES: must be a JSON array of routes',
    ]);
    const problems = problemsFor({
      ROUTES: JSON.stringify([
        { prefix: '/auth/x', upstream: 'ftp://x', auth: 'sometimes', extra: 1 },
      ]),
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ROUTES: route 0 prefix must not start with a reserved path/),
        'ROUTES: route 0 upstream must be an http or https URL',
        expect.stringMatching(/^ROUTES: route 0 auth: /),
        expect.stringMatching(/^ROUTES: route 0: .*extra/),
      ]),
    );
  });

  it('takes a list of upstream targets in ROUTES, each checked like a single upstream', () => {
    const targets = ['http://10.0.0.1:4000', 'https://orders-b.internal/v2'];
    expect(
      loadConfig('gateway', {
        ROUTES: JSON.stringify([{ prefix: '/orders', upstream: targets, auth: 'none' }]),
      }).gateway.routes,
    ).toEqual([{ prefix: '/orders', upstream: targets, auth: 'none' }]);
    const bad = (upstream: unknown) =>
      problemsFor({ ROUTES: JSON.stringify([{ prefix: '/orders', upstream, auth: 'none' }]) });
    expect(bad(['http://a:1', 'ftp://b'])).toEqual([
      'ROUTES: route 0 upstream.1 must be an http or https URL',
    ]);
    expect(bad([])).toEqual(['ROUTES: route 0 upstream must list at least one URL']);
    expect(bad(['http://a:1', 'http://a:1'])).toEqual([
      'ROUTES: route 0 upstream must not list a URL twice',
    ]);
    expect(bad(5)).toEqual([
      'ROUTES: route 0 upstream must be an http or https URL, or a list of them',
    ]);
  });

  it('reads LOCK_QUORUM_URLS as the independent nodes of quorum locks', () => {
    expect(
      loadConfig('auth', {
        LOCK_QUORUM_URLS: 'redis://10.0.0.1:6379, redis://:secret@10.0.0.2:6379,rediss://r3:6380',
      }).lock,
    ).toEqual({
      quorumUrls: ['redis://10.0.0.1:6379', 'redis://:secret@10.0.0.2:6379', 'rediss://r3:6380'],
    });
    expect(loadConfig('auth', { LOCK_QUORUM_URLS: '' }).lock).toEqual({ quorumUrls: [] });
  });

  it.each([
    ['fewer than three nodes', 'redis://a:1,redis://b:2'],
    ['a node named twice', 'redis://a:1,redis://b:2,redis://a:1'],
    ['a URL of another scheme', 'redis://a:1,redis://b:2,http://c:3'],
    ['something that is not a URL', 'redis://a:1,redis://b:2,c:3'],
  ])('refuses LOCK_QUORUM_URLS with %s, without echoing it', (_case, value) => {
    const problems = problemsFor({ LOCK_QUORUM_URLS: value });
    expect(problems).toEqual([
      'LOCK_QUORUM_URLS: must be a comma-separated list of at least 3 distinct URLs starting with redis:// or rediss://',
    ]);
  });
});
