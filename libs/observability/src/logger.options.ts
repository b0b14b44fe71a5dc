import type { Params } from 'nestjs-pino';
import pinoPretty from 'pino-pretty';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '@lattice/config';
import { logContext } from './request-context';
import { pathOf } from './request-id';

/**
 * For a person at a terminal: one line per entry (coloured when it can be), `HH:MM:ss.l app
 * LEVEL [context] message`, other fields below it. Written synchronously, so
 * nothing is lost when the process exits.
 */
const prettyStream = () =>
  pinoPretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app,context',
    messageFormat: '{app} {if context}[{context}] {end}{msg}',
  });

/**
 * Logs through one root pino logger, as JSON lines or (LOG_FORMAT=pretty)
 * human-readable ones; credentials are never written. Requests are logged by
 * RequestLogHook, so pino-http's middleware is mounted on no route: only its
 * logger (PinoLogger.root) is used.
 */
export function loggerOptions(config: Pick<Config, 'app' | 'log'>): Params {
  const options = {
    level: config.log.level,
    base: { app: config.app, pid: process.pid },
    // The request id (and trace ids) of the request the line was written for.
    mixin: logContext,
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
  };
  return {
    forRoutes: [],
    pinoHttp: config.log.format === 'pretty' ? [options, prettyStream()] : options,
  };
}
