export { PlatformModule } from './platform.module';
export { createApp } from './create-app';
export { runApp, shutDown } from './run-app';
export { ZodDto } from './zod-dto';
export type { ZodDtoClass } from './zod-dto';
export { ZodValidationPipe } from './zod-validation.pipe';
export { MAX_VALIDATION_ISSUES, boundIssues, zodIssues, issuesSummary } from './validation-issues';
export { GlobalExceptionFilter } from './global-exception.filter';
export { toErrorBody } from './error-body';
export type { ErrorBody } from './error-body';
export {
  BODY_LIMIT_BYTES,
  MAX_PARAM_LENGTH,
  MAX_HEADER_BYTES,
  SOCKET_MESSAGE_LIMIT_BYTES,
} from './http-limits';
export { toOpenApiSchema } from './openapi/zod-to-openapi';
export type { SchemaSide } from './openapi/zod-to-openapi';
export { ApiAnswer, ApiZodBody } from './openapi/api-answer.decorator';
export type { AnswerBody, ApiAnswerOptions } from './openapi/api-answer.decorator';
export { ApiError, ApiErrors } from './openapi/api-errors.decorator';
export { ApiSession, SESSION_COOKIE_SCHEME, BEARER_SCHEME } from './openapi/api-session.decorator';
export type { ApiSessionOptions } from './openapi/api-session.decorator';
export { errorBodySchema, ErrorBodyModel } from './openapi/error-body.schema';
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
