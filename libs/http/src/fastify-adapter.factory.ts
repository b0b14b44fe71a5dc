import type { IncomingMessage } from 'node:http';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { HttpConfig } from '@lattice/config';
import { requestIdFor } from '@lattice/observability';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Fastify as every app runs it: 1 MiB bodies, safe request ids, proxy trust from the environment. */
export function createFastifyAdapter(http: Pick<HttpConfig, 'trustProxy'>): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: http.trustProxy,
    requestIdHeader: false,
    genReqId: (raw: IncomingMessage) => {
      const id = requestIdFor(raw);
      // The request log (RequestLogHook) reads it from the raw request.
      (raw as typeof raw & { id?: string }).id = id;
      return id;
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
}
