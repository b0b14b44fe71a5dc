// Lets `node -r ./bench/register.cjs bench/x/y.ts` run TypeScript benchmarks
// and the processes they spawn: swc compiles .ts on load (with the decorator
// metadata Nest needs), and @lattice/* resolves to the libs' sources as in the
// tests. NestJS's ES modules load natively (Node.js 20.19 requires them).
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const { transformSync } = require('@swc/core');

const root = join(__dirname, '..');
const aliasTarget = (request) =>
  request === '@lattice/testing'
    ? join(root, 'test', 'harness', 'index.ts')
    : join(root, 'libs', request.slice('@lattice/'.length), 'src', 'index.ts');

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolve(request, ...rest) {
  return resolveFilename.call(
    this,
    request.startsWith('@lattice/') ? aliasTarget(request) : request,
    ...rest,
  );
};

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
