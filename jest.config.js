/** Three kinds of test: unit (beside the code, no network), integration (a real
 * redis-server started by the harness, apps in process) and e2e (built apps as
 * real processes). */
const transform = { '^.+\\.(ts|js|mjs)$': '<rootDir>/test/jest/swc-esm.transform.js' };
// ES-module-only packages that must be compiled to CommonJS for Jest on Node 20.
const ESM_PACKAGES = ['@nestjs', 'uid', 'lru-cache'];
const common = {
  rootDir: __dirname,
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleNameMapper: {
    '^@lattice/testing$': '<rootDir>/test/harness/index.ts',
    '^@lattice/(.*)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testEnvironment: 'node',
};

/**
 * End-to-end specs that need one standalone redis-server because they stop,
 * kill, restart or pause it, or that need no Redis (or a Sentinel deployment)
 * of their own: the e2e-cluster project leaves them out.
 */
const STANDALONE_ONLY_E2E = [
  'accounts-data-loss', // wipes its redis-server (FLUSHALL) under the apps
  'config', // no Redis at all
  'presence-failover', // stops and restarts Redis under the realtime workers
  'readiness', // stops and restarts Redis to watch readiness follow
  'redis-refusals', // puts its redis-server out of memory, into a replica, busy
  'cluster-failover', // brings its own cluster with replicas, and kills a master
  'sentinel-failover', // brings its own Sentinel deployment
];

/**
 * End-to-end specs whose subject does not touch Redis's topology (the proxy's
 * upstream targets, span structure, the merged OpenAPI document, the edge's
 * limits on clients, the error format): the cluster would only run them a
 * second time, so e2e-cluster leaves them out too.
 */
const TOPOLOGY_BLIND_E2E = [
  'docs',
  'tracing',
  'upstream-targets',
  'edge-hardening',
  'contract-errors',
];

module.exports = {
  // Not a speed target: only a backstop so that a hung test fails instead of stalling CI.
  testTimeout: 120_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
    {
      // The end-to-end suite again, with "the Redis under test" (startTestRedis) a cluster of three masters.
      ...common,
      displayName: 'e2e-cluster',
      testMatch: ['<rootDir>/test/e2e/*.e2e-spec.ts'],
      testPathIgnorePatterns: [
        `/test/e2e/(${[...STANDALONE_ONLY_E2E, ...TOPOLOGY_BLIND_E2E].join('|')})\\.e2e-spec\\.ts$`,
      ],
      setupFiles: ['<rootDir>/test/jest/cluster-redis.setup.js'],
    },
  ],
};
