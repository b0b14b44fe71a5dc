import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '@lattice/config';

const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/** JSON logs, one line per request with its id; credentials are never written. */
export function loggerOptions(config: Pick<Config, 'app' | 'log'>): Params {
  return {
    // Every path, unmatched ones included (the library's default pattern matches none on Nest 12 + Fastify).
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.log.level,
      base: { app: config.app, pid: process.pid },
      // Fastify has already chosen the id (see requestIdFor); reuse it.
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? '',
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.token',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: IncomingMessage & { id?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url?.split('?')[0],
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
      autoLogging: {
        ignore: (req: IncomingMessage) => QUIET_PATHS.has(req.url?.split('?')[0] ?? ''),
      },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    },
  };
}
