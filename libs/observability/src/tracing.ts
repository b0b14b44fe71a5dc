import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type * as Http from '@opentelemetry/instrumentation-http';
import type * as IORedis from '@opentelemetry/instrumentation-ioredis';
import type * as Undici from '@opentelemetry/instrumentation-undici';
import type * as SdkNode from '@opentelemetry/sdk-node';

/**
 * OpenTelemetry tracing, configured by the standard `OTEL_*` variables
 * (endpoint, protocol, headers, sampler, service name, resource attributes).
 * It starts only when an exporter endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT
 * or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not `true`;
 * otherwise the SDK is not even loaded, nothing is patched, and the
 * platform's own spans are the API's no-ops.
 *
 * It must run before anything else is required (it patches http, undici and
 * ioredis as they load): each app's entry point (dist/apps/<app>/main.js)
 * calls startTracing first. No Nest or @lattice import here.
 */

/** Paths never traced: probes and scrapes would drown the requests. */
const UNTRACED = /^\/(health\/(live|ready)|metrics)(\?|$)/;

/** The running SDK's shutdown, while tracing is on. */
let shutdown: (() => Promise<void>) | undefined;

/** Whether spans are recorded and exported in this process. */
export function tracingEnabled(): boolean {
  return shutdown !== undefined;
}

/**
 * Starts tracing for `app` when the environment asks for it. The gateway
 * trusts a client's `traceparent` only with TRACE_TRUST_CLIENT=true; the apps
 * behind it always continue the trace they are given.
 */
export function startTracing(app: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true' || shutdown) return false;
  // Loaded here, only when tracing is on: the SDK and its instrumentations are large.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof SdkNode;
  const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof Core;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof Http;
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof IORedis;
  const { UndiciInstrumentation } =
    require('@opentelemetry/instrumentation-undici') as typeof Undici;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const w3c = new W3CTraceContextPropagator();
  /**
   * At the public edge, by default, an incoming request's own `traceparent`
   * is ignored: a client must not pick trace ids, nor force every request to
   * be sampled. Outgoing requests still carry the context.
   */
  const outgoingOnly: TextMapPropagator = {
    inject: (ctx: Context, carrier: unknown, setter: TextMapSetter) =>
      w3c.inject(ctx, carrier, setter),
    extract: (ctx: Context) => ctx,
    fields: () => w3c.fields(),
  };
  const trustClient = app !== 'gateway' || env.TRACE_TRUST_CLIENT === 'true';
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || `lattice-${app}`,
    textMapPropagator: trustClient ? w3c : outgoingOnly,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED.test(request.url ?? ''),
      }),
      new UndiciInstrumentation(),
      // Commands made outside any request (heartbeats, subscriptions) start no trace of their own;
      // the command's name only: arguments hold keys, lock tokens and session hashes.
      new IORedisInstrumentation({
        requireParentSpan: true,
        dbStatementSerializer: (command) => command,
      }),
    ],
  });
  sdk.start();
  shutdown = () => sdk.shutdown();
  return true;
}

/** Sends the spans still buffered and stops; called last at shutdown. */
export async function stopTracing(): Promise<void> {
  const stop = shutdown;
  shutdown = undefined;
  await stop?.().catch(() => undefined);
}

const tracer = trace.getTracer('lattice');

/** Marks a span as failed with `error`, as the instrumentations do. */
function failed(span: Span, error: unknown): void {
  span.recordException(error as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
}

/** Runs `work` in `span` (under `parent`), ending it when its promise settles. */
function runIn<T>(span: Span, parent: Context, work: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(parent, span), work).then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      failed(span, error);
      span.end();
      throw error;
    },
  );
}

/**
 * Runs `work` in a child span named `name` (with `attributes`), ended when
 * its promise settles and marked as an error when it rejects. Without
 * tracing, `work` runs as it is.
 */
export function traced<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!shutdown) return work();
  const parent = context.active();
  return runIn(tracer.startSpan(name, { attributes }, parent), parent, work);
}

/**
 * Like traced, for work that belongs to the trace named in `headers`
 * (`traceparent`) rather than to the work running now: a Socket.IO
 * handshake, which runs after the HTTP request that carried it is over. A
 * span of a trace of its own when the headers name none (or, at the
 * gateway, when clients are not trusted).
 */
export function tracedFrom<T>(
  headers: IncomingHttpHeaders,
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!shutdown) return work();
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  return runIn(tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent), parent, work);
}

/**
 * Runs the synchronous `work` in a server span for an incoming request the
 * HTTP instrumentation does not trace (a WebSocket upgrade), continuing the
 * trace in its headers as the propagator allows (TRACE_TRUST_CLIENT at the
 * gateway); requests `work` makes, and everything it starts, are its
 * children. Without tracing, `work` runs as it is.
 */
export function inServerSpan(
  name: string,
  headers: IncomingHttpHeaders,
  attributes: Attributes,
  work: () => void,
): void {
  if (!shutdown) return work();
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  try {
    context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** One attempt of work that ends on a call rather than a promise: its `end(error?)` ends the span. */
export interface SpanScope {
  /** Runs `work` with the span as its parent: what it starts is the span's child. */
  run<T>(work: () => T): T;
  /** Adds attributes learnt along the way. */
  set(attributes: Attributes): void;
  /** Ends the span, failed when given an error. Later calls change nothing. */
  end(error?: unknown): void;
  /** Starts the next span under the same parent (a retry beside the attempt it follows). */
  sibling(name: string, attributes: Attributes): SpanScope;
}

/** What startSpan gives without tracing: runs work as it is, records nothing. */
export const NO_SPAN: SpanScope = {
  run: (work) => work(),
  set: () => undefined,
  end: () => undefined,
  sibling: () => NO_SPAN,
};

/**
 * Starts a child span of the work running now, for work whose end is a
 * callback (an upstream attempt: its answer's head, or its failure). Without
 * tracing it is a shared no-op, with nothing allocated per call.
 */
export function startSpan(name: string, attributes: Attributes): SpanScope {
  return shutdown ? spanScope(name, attributes, context.active()) : NO_SPAN;
}

function spanScope(name: string, attributes: Attributes, parent: Context): SpanScope {
  const span = tracer.startSpan(name, { attributes }, parent);
  const active = trace.setSpan(parent, span);
  let ended = false;
  return {
    run: (work) => context.with(active, work),
    set: (more) => span.setAttributes(more),
    end: (error) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) failed(span, error);
      span.end();
    },
    sibling: (next, more) => spanScope(next, more, parent),
  };
}

/** The trace and span of the work running now, for log lines; undefined outside any. */
export function currentTraceIds(): { traceId: string; spanId: string } | undefined {
  if (!shutdown) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
