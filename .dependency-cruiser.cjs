/** The layering rules of DESIGN.md, checked by `npm run lint`. */
module.exports = {
  forbidden: [
    {
      name: 'libs-never-import-apps',
      comment: 'Data flows one way: apps import libs, never the other way round.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'only-libs-redis-imports-ioredis',
      comment: 'libs/redis owns every Redis connection; everything else goes through RedisService.',
      severity: 'error',
      // Exception: bench/ runs peer limiters (rate-limiter-flexible) that need an ioredis client of their own.
      from: { path: '^(?!libs/redis/|bench/)' },
      to: { path: 'node_modules/ioredis/' },
    },
    {
      name: 'libs-import-libs-through-index',
      comment:
        'A lib reaches another lib only through its index.ts (@lattice/<lib>), never its internals.',
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/([^/]+)/src/(?!index\\.ts$)', pathNot: '^libs/$1/' },
    },
    {
      name: 'api-depends-only-on-common',
      comment:
        'libs/api (ZodDto, validation, the error body, @Api* decorators) is a leaf: any lib or app may use it without pulling in the composition root.',
      severity: 'error',
      from: { path: '^libs/api/' },
      to: {
        path: '^(apps|libs)/|node_modules/',
        pathNot: ['^libs/(api|common)/', 'node_modules/(zod|@nestjs/common|@nestjs/swagger)/'],
      },
    },
    {
      name: 'apps-import-libs-through-index',
      severity: 'error',
      from: { path: '^apps/' },
      to: { path: '^libs/[^/]+/src/(?!index\\.ts$)' },
    },
    {
      name: 'apps-never-import-other-apps',
      comment:
        'Not even for documentation: each app serves its own OpenAPI document and the gateway merges them.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    exclude: { path: '^dist/' },
  },
};
