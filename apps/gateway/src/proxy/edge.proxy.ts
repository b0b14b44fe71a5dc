import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import replyFrom, { type FastifyReplyFromHooks } from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import { toErrorBody } from '@lattice/http';
import { pathOf } from '@lattice/observability';
import { EdgePolicy } from './edge.policy';
import { clientHeaders, upstreamHeaders, type ForwardedRequest } from './forwarded-headers';
import { BadGatewayError, GatewayTimeoutError, UnforwardablePathError } from './proxy.errors';
import type { ProxyRoute } from './route-table';
import { RouteTableSource } from './route-table.source';

/** Connections kept open to each upstream origin, reused across requests. */
const CONNECTIONS_PER_UPSTREAM = 128;
const KEEP_ALIVE_MS = 60_000;
const CONNECT_TIMEOUT_MS = 5_000;

const TIMEOUT_CODES = new Set([
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/**
 * The gateway's forwarding, registered on Fastify beside Nest's routes
 * (which, being more specific, win): every path that is not the gateway's
 * own goes by the route table to its upstream, bodies streamed both ways,
 * over pooled keep-alive connections, with the edge's checks first.
 * `/socket.io/` (HTTP and WebSocket upgrades) goes to the realtime app.
 */
@Injectable()
export class EdgeProxy implements OnModuleInit {
  private readonly logger = new Logger('Proxy');
  private readonly timeoutMs: number;
  private readonly realtimeUrl: string;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: RouteTableSource,
    private readonly policy: EdgePolicy,
    config: ConfigService,
  ) {
    this.timeoutMs = config.get('gateway').upstreamTimeoutMs;
    this.realtimeUrl = config.get('gateway').realtimeUrl;
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const undici = {
      connections: CONNECTIONS_PER_UPSTREAM,
      keepAliveTimeout: KEEP_ALIVE_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    };
    const onError = this.onUpstreamError;

    void fastify.register(async (proxy) => {
      // Bodies are forwarded as the client streams them, never parsed or buffered here.
      proxy.removeAllContentTypeParsers();
      proxy.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      await proxy.register(replyFrom, { undici, disableRequestLogging: true });
      proxy.all('/*', (request, reply) => this.forward(request, reply));
    });

    const socketRoute: ProxyRoute = {
      prefix: '/socket.io',
      target: this.realtimeUrl,
      auth: 'platform',
    };
    void fastify.register(async (socket) => {
      // Its own parsers in its own context: Nest's stay as they are for the gateway's routes.
      socket.removeAllContentTypeParsers();
      await socket.register(httpProxy, {
        upstream: this.realtimeUrl,
        prefix: '/socket.io',
        rewritePrefix: '/socket.io',
        websocket: true,
        undici,
        disableRequestLogging: true,
        replyOptions: {
          rewriteRequestHeaders: (request, headers) =>
            upstreamHeaders(request, socketRoute, headers),
          onError,
        },
        // Supported by @fastify/http-proxy, missing from its types. The upgrade carries the
        // session cookie and the Origin, so the realtime app refuses cross-site sockets as before.
        wsClientOptions: {
          rewriteRequestHeaders: (headers: IncomingHttpHeaders, request: ForwardedRequest) => {
            const { cookie, origin } = request.headers;
            return upstreamHeaders(request, socketRoute, {
              ...headers,
              ...(cookie === undefined ? {} : { cookie }),
              ...(origin === undefined ? {} : { origin }),
            });
          },
        } as FastifyHttpProxyOptions['wsClientOptions'],
      });
    });
  }

  private forward(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const route = this.routes.current.match(request.url);
    this.policy.admit(request, reply, route).then(
      () => this.afterAdmission(request, reply, route),
      (error: unknown) => this.fail(request, reply, error),
    );
    return reply;
  }

  private afterAdmission(
    request: FastifyRequest,
    reply: FastifyReply,
    route: ProxyRoute | undefined,
  ): void {
    if (!route) return this.fail(request, reply, new NotFoundError('No such route or resource'));
    try {
      reply.from(route.target + request.url, {
        rewriteRequestHeaders: (req, headers) => upstreamHeaders(req, route, headers),
        rewriteHeaders: clientHeaders,
        onError: this.onUpstreamError,
      });
    } catch {
      // reply-from refuses `..` segments synchronously, before anything is sent.
      this.fail(request, reply, new UnforwardablePathError());
    }
  }

  private readonly onUpstreamError: FastifyReplyFromHooks['onError'] = (reply, { error }) => {
    const code = (error as { code?: string }).code ?? '';
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? '';
    const timedOut = TIMEOUT_CODES.has(code) || TIMEOUT_CODES.has(cause);
    this.logger.warn(
      { requestId: reply.request.id },
      `${reply.request.method} ${pathOf(reply.request.url)}: upstream ${timedOut ? 'timed out' : `failed (${cause || code})`}`,
    );
    // reply-from types its reply for HTTP/2 servers too; the gateway serves HTTP/1.1.
    const http1 = reply as unknown as FastifyReply;
    this.fail(http1.request, http1, timedOut ? new GatewayTimeoutError() : new BadGatewayError());
  };

  /** Answers with the contract's error body. */
  private fail(request: { id: string }, reply: FastifyReply, error: unknown): void {
    const { body, internal } = toErrorBody(error, request.id);
    if (internal) this.logger.error({ requestId: request.id, err: error }, 'Unhandled error');
    void reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  }
}
