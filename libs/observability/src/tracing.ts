import type { IncomingMessage } from 'node:http';
import {
  context,
  trace,
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

/**
 * Runs `work` in a child span named `name` (with `attributes`), ended when
 * its promise settles and marked as an error when it rejects. Without
 * tracing, `work` runs as it is.
 */
export function traced<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  work: () => Promise<T>,
): Promise<T> {
  if (!shutdown) return work();
  return tracer.startActiveSpan(name, { attributes }, (span: Span) =>
    work().then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        span.recordException(error as Error);
        span.setStatus({ code: 2, message: (error as Error)?.message });
        span.end();
        throw error;
      },
    ),
  );
}

/** The trace and span of the work running now, for log lines; undefined outside any. */
export function currentTraceIds(): { traceId: string; spanId: string } | undefined {
  if (!shutdown) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
