import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The Swagger UI files a page needs, by name, with their media type. */
export const SWAGGER_UI_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

let assetsDirectory: string | undefined;

/**
 * Where swagger-ui-dist keeps those files on disk: the copy @nestjs/swagger
 * depends on, resolved from it, so the page never loads anything from the internet.
 */
export function swaggerUiDirectory(): string {
  if (!assetsDirectory) {
    const fromSwagger = createRequire(require.resolve('@nestjs/swagger'));
    const absolutePath = fromSwagger('swagger-ui-dist/absolute-path.js') as () => string;
    assetsDirectory = absolutePath();
  }
  return assetsDirectory;
}

/** The file behind an asset name, or undefined when it is not one of SWAGGER_UI_ASSETS. */
export function swaggerUiAsset(name: string): { file: string; contentType: string } | undefined {
  if (!Object.hasOwn(SWAGGER_UI_ASSETS, name)) return undefined;
  return { file: join(swaggerUiDirectory(), name), contentType: SWAGGER_UI_ASSETS[name]! };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The Swagger UI page for the document at `documentUrl`, its assets and
 * start-up script under `base` (e.g. `/docs`): no inline script, no CDN, and
 * no call to the public validator.
 */
export function swaggerUiPage(options: { title: string; base: string }): string {
  const { base } = options;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(options.title)}</title>
  <link rel="stylesheet" href="${base}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${base}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="${base}/favicon-16x16.png" sizes="16x16">
  <style>body { margin: 0; background: #fafafa; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${base}/swagger-ui-bundle.js"></script>
  <script src="${base}/swagger-ui-init.js"></script>
</body>
</html>
`;
}

/** The script that starts Swagger UI on the page, loading the document from `documentUrl`. */
export function swaggerUiInitScript(documentUrl: string): string {
  return `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(documentUrl)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    withCredentials: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;
}
