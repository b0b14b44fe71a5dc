// Jest on Node 20 cannot require() ES modules, and NestJS 12 ships only as ES
// modules (production is fine: Node 20.19 can require them). So tests compile
// those packages to CommonJS with swc, as they do our TypeScript, after
// rewriting the few `import.meta` uses that CommonJS has no syntax for.
const { createTransformer } = require('@swc/jest');

const options = (syntax) => ({
  jsc: {
    parser: syntax === 'typescript' ? { syntax, decorators: true } : { syntax: 'ecmascript' },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs', ignoreDynamic: false },
  sourceMaps: 'inline',
});

const typescript = createTransformer(options('typescript'));
const javascript = createTransformer(options('ecmascript'));

const rewriteImportMeta = (source) =>
  source.includes('import.meta')
    ? source
        // CommonJS already has `require`; a module that makes its own would shadow it.
        .replace(/const require = createRequire\(import\.meta\.url\);?/g, '')
        .replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href")
        .replace(/import\.meta\.dirname/g, '__dirname')
        .replace(/import\.meta\.filename/g, '__filename')
        .replace(/import\.meta\.resolve\(/g, 'require.resolve(')
    : source;

module.exports = {
  process(source, path, config) {
    const transformer = path.endsWith('.ts') ? typescript : javascript;
    return transformer.process(rewriteImportMeta(source), path, config);
  },
  getCacheKey(source, path, config) {
    const transformer = path.endsWith('.ts') ? typescript : javascript;
    return `${transformer.getCacheKey(source, path, config)}:esm-cjs-2`;
  },
};
