import type { FastifyInstance, FastifyRequest } from 'fastify';
import { JSON_DEPTH_RULE, ValidationFailedError, jsonTextTooDeep } from '@lattice/common';

type Done = (error: Error | null, body?: unknown) => void;

/**
 * The JSON body parser of every app: Fastify's own (secure-json-parse, which
 * refuses `__proto__` and `constructor.prototype`), after a one-pass check
 * that the text nests at most MAX_JSON_DEPTH levels, so no deeper value ever
 * reaches validation or a handler: 400 VALIDATION_FAILED instead.
 */
export function depthBoundedJsonParser(
  fastify: FastifyInstance,
): (request: FastifyRequest, body: Buffer, done: Done) => void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    const text = body.toString('utf8');
    if (jsonTextTooDeep(text)) {
      done(
        new ValidationFailedError(`The request body ${JSON_DEPTH_RULE}`, [
          { path: '(root)', message: JSON_DEPTH_RULE },
        ]),
      );
      return;
    }
    void parse(request, text, done);
  };
}
