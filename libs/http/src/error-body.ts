import { HttpException, HttpStatus } from '@nestjs/common';
import type { ErrorBody } from '@lattice/api';
import { LatticeError } from '@lattice/common';
import { isRedisUnavailableError } from '@lattice/redis';
import { MAX_PARAM_LENGTH } from './http-limits';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** Errors Fastify raises before a handler runs (routing, body parsing), by their code. */
const FASTIFY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'BAD_REQUEST',
    message: 'The URL is not valid: a percent-encoded sequence does not decode',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'URI_TOO_LONG',
    message: `A path segment is longer than ${MAX_PARAM_LENGTH} characters`,
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'The request body is larger than 1 MiB',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'MALFORMED_JSON',
    message: 'The request body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'MALFORMED_JSON',
    message: 'The request has a JSON content type but an empty body',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Send the body as application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'BAD_REQUEST',
    message: 'The Content-Length header does not match the body',
  },
};

/** Nest wraps Fastify's own errors in an HttpException whose cause carries the FST_ code. */
function fastifyError(exception: unknown): (typeof FASTIFY_ERRORS)[string] | undefined {
  for (const candidate of [exception, (exception as { cause?: unknown } | null)?.cause]) {
    const code = (candidate as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code in FASTIFY_ERRORS) return FASTIFY_ERRORS[code];
  }
  return undefined;
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/**
 * The contract's error body for anything thrown. Unknown errors become a 500
 * whose message reveals nothing; `internal` tells the caller to log it.
 */
export function toErrorBody(
  exception: unknown,
  requestId: string,
): { body: ErrorBody; internal: boolean } {
  if (exception instanceof LatticeError) {
    const body: ErrorBody = {
      statusCode: exception.status,
      code: exception.code,
      message: exception.message,
      requestId,
    };
    if (exception.details !== undefined) body.details = exception.details;
    return { body, internal: exception.status >= 500 && exception.code === 'INTERNAL' };
  }
  const fastify = fastifyError(exception);
  if (fastify) {
    return {
      body: { statusCode: fastify.status, code: fastify.code, message: fastify.message, requestId },
      internal: false,
    };
  }
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const code = CODE_BY_STATUS[statusCode] ?? (statusCode >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
    const message =
      statusCode === HttpStatus.NOT_FOUND ? 'No such route or resource' : messageOf(exception);
    return { body: { statusCode, code, message, requestId }, internal: statusCode >= 500 };
  }
  // Redis unreachable (no connection, a failover under way): the service is unavailable, not broken.
  if (isRedisUnavailableError(exception)) {
    return {
      body: {
        statusCode: 503,
        code: 'UNAVAILABLE',
        message: 'The service is briefly unavailable; try again shortly',
        requestId,
      },
      internal: false,
    };
  }
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      body: {
        statusCode: status,
        code: CODE_BY_STATUS[status] ?? 'BAD_REQUEST',
        message: 'The request is not valid',
        requestId,
      },
      internal: false,
    };
  }
  return {
    body: {
      statusCode: 500,
      code: 'INTERNAL',
      message: 'Something went wrong on our side',
      requestId,
    },
    internal: true,
  };
}
