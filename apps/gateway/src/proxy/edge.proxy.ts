import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import replyFrom, { type FastifyReplyFromHooks } from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { NotFoundError } from '@lattice/common';
import { ConfigService, type ClientLimitsConfig } from '@lattice/config';
import { sendErrorReply, SOCKET_MESSAGE_LIMIT_BYTES } from '@lattice/http';
import {
  inServerSpan,
  MetricsService,
  NO_SPAN,
  pathOf,
  startSpan,
  tracingEnabled,
  type SpanScope,
} from '@lattice/observability';
import { applyClientDeadlines, capConnectionsPerClient } from './client-limits';
import { EdgePolicy } from './edge.policy';
import { clientHeaders, upstreamHeaders, type ForwardedRequest } from './forwarded-headers';
import { PerClientCounter } from './per-client.counter';
import {
  BadGatewayError,
  GatewayTimeoutError,
  TooManyUploadsError,
  UnforwardablePathError,
  UpstreamUnavailableError,
} from './proxy.errors';
import { bufferRequestBodies, rewindBody } from './request-bodies';
import type { ProxyRoute } from './route.table';
import { RouteTableSource } from './route-table.source';
import { SocketSessionRouter } from './socket-session.router';
import { codeOf, failureOf, isRetriedMethod, isTimeout } from './upstream-failure';
import type { TargetLease } from './upstream.targets';

/** Connections kept open to each upstream origin, reused across requests. */
const CONNECTIONS_PER_UPSTREAM = 128;
const KEEP_ALIVE_MS = 60_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * reply-from retries a GET that got 503 up to ten times by default (and
 * `maxRetriesOn503: 0` cannot turn that off), and its other retries send the
 * same URL with a body stream already read. Its retries stay off: an
 * upstream's answer, 503 included, goes to the client at once, and the edge
 * makes its one safe retry itself, on another target (onAttemptFailed).
 */
const NEVER_RETRY = (): null => null;

/** The query string as the client sent it (without `?`), forwarded untouched. */
const clientQuery = (_search: string | undefined, url: string): string => {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
};

/**
 * With tracing on, a span for one attempt at a target (the forward's client
 * span under it), a retry beside the attempt that failed; without, the shared
 * no-op, nothing allocated.
 */
function attemptSpan(
  route: ProxyRoute,
  lease: TargetLease,
  failedAttempt: SpanScope | undefined,
): SpanScope {
  if (!tracingEnabled()) return NO_SPAN;
  const attributes = {
    'lattice.route': route.prefix,
    'lattice.upstream.target': lease.target.label,
    'lattice.upstream.retry': failedAttempt !== undefined,
  };
  return failedAttempt
    ? failedAttempt.sibling('upstream.attempt', attributes)
    : startSpan('upstream.attempt', attributes);
}

/**
 * The gateway's forwarding, registered on Fastify beside Nest's routes
 * (which, being more specific, win): every path that is not the gateway's
 * own goes by the route table to one of its upstream targets (balanced, see
 * UpstreamTargets), over pooled keep-alive connections, with the edge's
 * checks first; request bodies are read whole
 * first (up to 1 MiB), answers streamed. `/socket.io/` (HTTP and WebSocket
 * upgrades) goes to the realtime app: each session's requests to the
 * instance that owns it (SocketSessionRouter), new sessions to REALTIME_URL. No client may hold what others need:
 * see limitClients and bufferRequestBodies.
 */
@Injectable()
export class EdgeProxy implements OnModuleInit {
  private readonly logger = new Logger('Proxy');
  private readonly timeoutMs: number;
  private readonly realtimeUrl: string;
  private readonly clientLimits: ClientLimitsConfig;
  private readonly trustProxy: boolean;
  private readonly retries: Counter<'route'>;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: RouteTableSource,
    private readonly policy: EdgePolicy,
    private readonly sessions: SocketSessionRouter,
    config: ConfigService,
    metrics: MetricsService,
  ) {
    this.retries = metrics.counter(
      'lattice_gateway_upstream_retries_total',
      'Requests sent again to another target after the first could not be reached, by route',
      ['route'],
    );
    this.timeoutMs = config.get('gateway').upstreamTimeoutMs;
    this.realtimeUrl = config.get('gateway').realtimeUrl;
    this.clientLimits = config.get('gateway').clientLimits;
    this.trustProxy = config.get('http').trustProxy;
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    this.limitClients(fastify);
    const { uploadsPerClient } = this.clientLimits;
    const uploads = uploadsPerClient > 0 ? new PerClientCounter(uploadsPerClient) : undefined;
    const undici = {
      connections: CONNECTIONS_PER_UPSTREAM,
      keepAliveTimeout: KEEP_ALIVE_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    };
    const onError = this.onUpstreamError;

    void fastify.register(async (proxy) => {
      bufferRequestBodies(proxy, uploads);
      proxy.setErrorHandler(this.onRefusedBody);
      await proxy.register(replyFrom, { undici, disableRequestLogging: true });
      // Returns nothing: a handler that returns the reply makes Fastify wait for
      // it as a thenable, which attaches end-of-stream listeners to every response.
      proxy.all('/*', (request, reply) => {
        this.forward(request, reply);
      });
    });

    const socketRoute: Pick<ProxyRoute, 'auth'> = { auth: 'platform' };
    // Each request's realtime instance, decided before its body is read (see SocketSessionRouter).
    const upstreams = new WeakMap<object, string>();
    void fastify.register(async (socket) => {
      // Parsers of its own in its own context: Nest's stay as they are for the gateway's routes.
      bufferRequestBodies(socket, uploads);
      socket.setErrorHandler(this.onRefusedBody);
      socket.addHook('onRequest', (request, _reply, done) => {
        const { sid } = request.query as { sid?: unknown };
        this.sessions.upstreamFor(sid).then((upstream) => {
          upstreams.set(request.raw, upstream);
          if (request.headers.upgrade === undefined) return done();
          // The HTTP instrumentation traces no upgrade: the gateway's span for it is made
          // here, and the proxy's request to realtime (its client span, and the
          // `traceparent` realtime's handshake continues) is made inside it.
          inServerSpan(
            'GET /socket.io/ (WebSocket)',
            request.headers,
            {
              'http.request.method': 'GET',
              'url.path': pathOf(request.url),
              'lattice.upstream.target': upstream,
            },
            done,
          );
        }, done);
      });
      await socket.register(httpProxy, {
        // No fixed upstream: every request, WebSocket upgrades included, goes where getUpstream says.
        upstream: '',
        prefix: '/socket.io',
        rewritePrefix: '/socket.io',
        websocket: true,
        // Bodies are read by bufferRequestBodies, not streamed by the plugin's own parser.
        proxyPayloads: false,
        undici,
        disableRequestLogging: true,
        replyOptions: {
          getUpstream: (request) => upstreams.get(request.raw) ?? this.realtimeUrl,
          rewriteRequestHeaders: (request, headers) =>
            upstreamHeaders(request, socketRoute, headers),
          onError,
          retryDelay: NEVER_RETRY,
        },
        // The realtime app's own limit, so the edge never holds more of a message than
        // realtime would accept; a larger frame closes the connection (1009) as soon
        // as its header announces the size, before any of it is buffered.
        wsServerOptions: { maxPayload: SOCKET_MESSAGE_LIMIT_BYTES },
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

  /**
   * What no one client may hold: deadlines for its requests, and (where the
   * gateway sees clients' own addresses) a cap on its open connections.
   */
  private limitClients(fastify: FastifyInstance): void {
    applyClientDeadlines(fastify.server, this.clientLimits);
    const { connectionsPerClient } = this.clientLimits;
    if (connectionsPerClient > 0 && !this.trustProxy) {
      capConnectionsPerClient(fastify.server, connectionsPerClient);
    }
  }

  /** Answers later, through `reply`, once the edge's checks are done. */
  private forward(request: FastifyRequest, reply: FastifyReply): void {
    const route = this.routes.current.match(request.url);
    this.policy.admit(request, reply, route).then(
      () => this.afterAdmission(request, reply, route),
      (error: unknown) => this.fail(request, reply, error),
    );
  }

  private afterAdmission(
    request: FastifyRequest,
    reply: FastifyReply,
    route: ProxyRoute | undefined,
  ): void {
    if (!route) return this.fail(request, reply, new NotFoundError('No such route or resource'));
    const lease = route.targets.take();
    // Every target out of rotation: say so now rather than wait for one to time out.
    if (!lease) return this.fail(request, reply, new UpstreamUnavailableError());
    this.sendTo(request, reply, route, lease);
  }

  /** One attempt at one target; its outcome goes to the target's breaker (UpstreamTargets). */
  private sendTo(
    request: FastifyRequest,
    reply: FastifyReply,
    route: ProxyRoute,
    lease: TargetLease,
    failedAttempt?: SpanScope,
  ): void {
    const attempt = attemptSpan(route, lease, failedAttempt);
    try {
      // The path alone: reply-from would refuse `../` anywhere in the URL, query included.
      attempt.run(() =>
        reply.from(lease.target.url + pathOf(request.url), {
          queryString: clientQuery,
          rewriteRequestHeaders: (req, headers) => upstreamHeaders(req, route, headers),
          // Called as the answer's head arrives, whatever becomes of the client.
          rewriteHeaders: (headers) => {
            lease.settle('answered');
            attempt.end();
            return clientHeaders(headers);
          },
          onError: (_reply, { error }) =>
            this.onAttemptFailed(request, reply, route, lease, attempt, error, !!failedAttempt),
          retryDelay: NEVER_RETRY,
        }),
      );
    } catch (error) {
      // reply-from refuses `..` segments synchronously, before anything is sent.
      lease.settle('unknown');
      attempt.end(error);
      this.fail(request, reply, new UnforwardablePathError());
    }
  }

  /**
   * An attempt that got no answer. Connect failures and timeouts count
   * against the target. One that did not reach the target, or was reset before
   * any answer, is sent once more to another target when that is safe: an
   * idempotent method and a body read whole (never a POST or PATCH, never an
   * answer, never twice). Otherwise the client gets 502 or 504.
   */
  private onAttemptFailed(
    request: FastifyRequest,
    reply: FastifyReply,
    route: ProxyRoute,
    lease: TargetLease,
    attempt: SpanScope,
    error: Error,
    retried: boolean,
  ): void {
    const failure = failureOf(error);
    lease.settle(failure === 'unreached' || failure === 'timeout' ? 'failed' : 'unknown');
    attempt.set({ 'error.type': codeOf(error) || failure });
    attempt.end(error);
    if (
      !retried &&
      (failure === 'unreached' || failure === 'reset') &&
      isRetriedMethod(request.method) &&
      rewindBody(request)
    ) {
      const next = route.targets.take(lease.target);
      if (next) {
        this.retries.inc({ route: route.prefix });
        this.logger.warn(
          { requestId: request.id },
          `${request.method} ${pathOf(request.url)}: upstream failed (${codeOf(error)}); retrying on another target`,
        );
        return this.sendTo(request, reply, route, next, attempt);
      }
    }
    this.onUpstreamError(reply, { error });
  }

  /**
   * A request body the gateway refuses (over 1 MiB, too many uploads at once,
   * not matching its Content-Length) is answered with the contract's error
   * body before the client has finished sending it. Node then reads what is
   * left of it and drops it (within CLIENT_REQUEST_TIMEOUT_MS) before the next
   * request on the connection. Closing at once instead, as Fastify would,
   * resets the connection under a client still sending, which then never
   * sees the answer (and the body's framing, Content-Length or chunked, tells
   * Node exactly where the next request starts).
   */
  private readonly onRefusedBody = (
    error: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void => {
    reply.removeHeader('Connection');
    if (error instanceof TooManyUploadsError) reply.header('Retry-After', '1');
    this.fail(request, reply, error);
  };

  private readonly onUpstreamError: NonNullable<FastifyReplyFromHooks['onError']> = (
    reply,
    { error },
  ) => {
    const timedOut = isTimeout(error);
    this.logger.warn(
      { requestId: reply.request.id },
      `${reply.request.method} ${pathOf(reply.request.url)}: upstream ${timedOut ? 'timed out' : `failed (${codeOf(error)})`}`,
    );
    // reply-from types its reply for HTTP/2 servers too; the gateway serves HTTP/1.1.
    const http1 = reply as unknown as FastifyReply;
    // The request was not finished: the client starts afresh on a new connection.
    http1.header('Connection', 'close');
    this.fail(http1.request, http1, timedOut ? new GatewayTimeoutError() : new BadGatewayError());
  };

  /** Answers with the contract's error body and the error's own headers (a 429's limits). */
  private fail(request: { id: string }, reply: FastifyReply, error: unknown): void {
    sendErrorReply(reply, request.id, error, this.logger);
  }
}
