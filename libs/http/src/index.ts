export { PlatformModule } from './platform.module';
export { createApp } from './create-app';
export { runApp, shutDown } from './run-app';
export { GlobalExceptionFilter } from './global-exception.filter';
export { sendErrorReply } from './error-reply';
export {
  BODY_LIMIT_BYTES,
  MAX_PARAM_LENGTH,
  MAX_HEADER_BYTES,
  SOCKET_MESSAGE_LIMIT_BYTES,
} from './http-limits';
export { API_VERSION, buildAppDocument, buildOpenApiDocument } from './openapi/openapi-document';
export { ApiDocument } from './openapi/api-document.service';
export { ApiDocumentSource } from './openapi/api-document.source';
export { DocsModule } from './openapi/docs.module';
export type { ApiDocumentInfo, OpenApiDocumentOptions } from './openapi/openapi-document';
export { controllersOf, routesOf } from './openapi/route-inventory';
export type { RouteEntry } from './openapi/route-inventory';
