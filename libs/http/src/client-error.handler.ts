import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from '@lattice/api';
import { MAX_HEADER_BYTES } from './http-limits';

/** What a request the HTTP parser refused is answered with, by the parser's error code. */
function answerFor(code: string | undefined): Pick<ErrorBody, 'statusCode' | 'code' | 'message'> {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        statusCode: 431,
        code: 'HEADERS_TOO_LARGE',
        message: `The request line and headers are larger than ${MAX_HEADER_BYTES / 1024} KiB`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        statusCode: 408,
        code: 'REQUEST_TIMEOUT',
        message: 'The request did not arrive in time',
      };
    default:
      return {
        statusCode: 400,
        code: 'BAD_REQUEST',
        message:
          'The request is not valid HTTP (a malformed request line, a forbidden character in a header, or conflicting lengths)',
      };
  }
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refused (a
 * header too large, a NUL byte or a bad character in a header, a malformed
 * request line) never becomes a request, so there is no reply to send: the
 * whole HTTP response is written on the socket, with the contract's error
 * body and a fresh request id, and the connection is closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const requestId = randomUUID();
    const body = JSON.stringify({ ...answerFor(error.code), requestId });
    const { statusCode } = answerFor(error.code);
    socket.write(
      [
        `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        `X-Request-Id: ${requestId}`,
        'Cache-Control: no-store',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
  socket.destroy(error);
}
