import { Readable, finished } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BODY_LIMIT_BYTES } from '@lattice/http';
import type { PerClientCounter } from './per-client.counter';
import { TooManyUploadsError } from './proxy.errors';

/** The bytes behind each body stream handed to reply-from, so a retry can send them again. */
const bytesOf = new WeakMap<Readable, Buffer>();

function streamOf(bytes: Buffer): Readable {
  const stream = Readable.from(bytes);
  bytesOf.set(stream, bytes);
  return stream;
}

/**
 * Gives the request a fresh stream of the body it arrived with, for another
 * attempt upstream; false when the body was not read whole by
 * bufferRequestBodies (it cannot be sent twice).
 */
export function rewindBody(request: FastifyRequest): boolean {
  if (request.body === undefined || request.body === null) return true;
  const bytes = bytesOf.get(request.body as Readable);
  if (!bytes) return false;
  request.body = streamOf(bytes);
  return true;
}

/** Whether a request announces a body (GET and HEAD may too, though Fastify never reads theirs). */
function carriesBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

/**
 * Request bodies in a forwarding context are read whole, up to the platform's
 * 1 MiB, before anything goes upstream. A client that sends slowly then holds
 * its own connection to the gateway (until CLIENT_REQUEST_TIMEOUT_MS), never
 * one of the few pooled connections to an upstream; a body over the limit,
 * announced by Content-Length or grown past it in chunks, is refused with 413
 * before anything is forwarded. The bytes go on as a stream, so reply-from
 * forwards them as the client sent them (it would re-encode a parsed body).
 *
 * With `uploads`, one client may be sending at most that many bodies at once
 * (counted by the address the gateway decided on); the next gets 429.
 */
export function bufferRequestBodies(context: FastifyInstance, uploads?: PerClientCounter): void {
  context.removeAllContentTypeParsers();
  context.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES },
    (_request, body: Buffer, done) => done(null, body.length > 0 ? streamOf(body) : undefined),
  );
  if (!uploads) return;
  context.addHook('preParsing', (request, _reply, payload, done) => {
    if (!carriesBody(request)) return done(null, payload);
    const client = request.ip;
    if (!uploads.tryTake(client)) return done(new TooManyUploadsError());
    // Read to its end, cut off, or timed out: the slot is free again.
    finished(request.raw, () => uploads.release(client));
    done(null, payload);
  });
}
