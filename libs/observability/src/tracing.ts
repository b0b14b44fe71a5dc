import type { IncomingMessage } from 'node:http';
import {
  context,
  trace,
  type Context,
  type Span,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * OpenTelemetry tracing, configured by the standard `OTEL_*` variables
 * (endpoint, protocol, headers, sampler, service name, resource attributes).
 * It starts only when an exporter endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT
 * or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not `true`;
 * otherwise nothing is loaded or patched, and the platform's own spans are
 * the API's no-ops.
 *
 * It must run before anything else is required (it patches http, undici and
 * ioredis as they load): each app's entry point (dist/apps/<app>/main.js)
 * calls startTracing first. No Nest or @lattice import here.
 */

/** Paths never traced: probes and scrapes would drown the requests. */
const UNTRACED = /^\/(health\/(live|ready)|metrics)(\?|$)/;

let sdk: NodeSDK | undefined;

/** Whether spans are recorded and exported in this process. */
export function tracingEnabled(): boolean {
  return sdk !== undefined;
}

/**
 * W3C trace context, except that an incoming request's own `traceparent` is
 * ignored: at the public edge a client must not pick trace ids, nor force
 * every request to be sampled. Outgoing requests still carry the context.
 */
class OutgoingOnlyPropagator implements TextMapPropagator {
  private readonly w3c = new W3CTraceContextPropagator();

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    this.w3c.inject(ctx, carrier, setter);
  }

  extract(ctx: Context): Context {
    return ctx;
  }

  fields(): string[] {
    return this.w3c.fields();
  }
}

/**
 * Starts tracing for `app` when the environment asks for it. The gateway
 * trusts a client's `traceparent` only with TRACE_TRUST_CLIENT=true; the apps
 * behind it always continue the trace they are given.
 */
export function startTracing(app: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true' || sdk) return false;
  const trustClient = app !== 'gateway' || env.TRACE_TRUST_CLIENT === 'true';
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || `lattice-${app}`,
    textMapPropagator: trustClient ? new W3CTraceContextPropagator() : new OutgoingOnlyPropagator(),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED.test(request.url ?? ''),
      }),
      new UndiciInstrumentation(),
      // Commands made outside any request (heartbeats, subscriptions) start no trace of their own.
      // The command's name only: arguments hold keys, lock tokens and session hashes.
      new IORedisInstrumentation({
        requireParentSpan: true,
        dbStatementSerializer: (command) => command,
      }),
    ],
  });
  sdk.start();
  return true;
}

/** Sends the spans still buffered and stops; called last at shutdown. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown().catch(() => undefined);
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
  if (!sdk) return work();
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
  if (!sdk) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
