export { PlatformModule } from './platform.module';
export { createApp } from './create-app';
export { runApp, shutDown } from './run-app';
export { GlobalExceptionFilter } from './global-exception.filter';
export { toErrorBody } from './error-body';
export {
  BODY_LIMIT_BYTES,
  MAX_PARAM_LENGTH,
  MAX_HEADER_BYTES,
  SOCKET_MESSAGE_LIMIT_BYTES,
} from './http-limits';
export { buildOpenApiDocument } from './openapi/openapi-document';
export type { OpenApiDocumentOptions } from './openapi/openapi-document';
export { controllersOf, routesOf } from './openapi/route-inventory';
export type { RouteEntry } from './openapi/route-inventory';
export {
  SWAGGER_UI_ASSETS,
  swaggerUiAsset,
  swaggerUiDirectory,
  swaggerUiPage,
  swaggerUiInitScript,
} from './openapi/swagger-ui.assets';
