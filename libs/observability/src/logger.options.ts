import type { Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '@lattice/config';
import { pathOf } from './request-id';

/**
 * JSON logs through one root pino logger; credentials are never written.
 * Requests are logged by RequestLogHook, so pino-http's middleware is
 * mounted on no route: only its logger (PinoLogger.root) is used.
 */
export function loggerOptions(config: Pick<Config, 'app' | 'log'>): Params {
  return {
    forRoutes: [],
    pinoHttp: {
      level: config.log.level,
      base: { app: config.app, pid: process.pid },
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
          url: req.url === undefined ? undefined : pathOf(req.url),
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
