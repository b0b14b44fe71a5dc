import { trace } from '@opentelemetry/api';
import {
  currentTraceIds,
  inServerSpan,
  NO_SPAN,
  startSpan,
  startTracing,
  traced,
  tracedFrom,
  tracingEnabled,
} from './tracing';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const activeSpan = () => trace.getActiveSpan();

/**
 * Without an exporter endpoint, tracing is off: the SDK is not started and
 * every helper on the request path runs its work as it is, with no span and
 * nothing to read for log lines.
 */
describe('tracing without an exporter endpoint', () => {
  it('does not start, nor with OTEL_SDK_DISABLED=true whatever the endpoint', () => {
    expect(startTracing('gateway', {})).toBe(false);
    expect(
      startTracing('gateway', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_SDK_DISABLED: 'true',
      }),
    ).toBe(false);
    expect(tracingEnabled()).toBe(false);
  });

  it('runs the work of every helper as it is, with no span active and no ids for logs', async () => {
    const seen: unknown[] = [];
    const look = () => seen.push(activeSpan(), currentTraceIds());
    await expect(traced('x', {}, async () => (look(), 1))).resolves.toBe(1);
    await expect(tracedFrom({ traceparent }, 'x', {}, async () => (look(), 2))).resolves.toBe(2);
    inServerSpan('x', { traceparent }, {}, look);
    expect(seen).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('gives the shared no-op span for callback work, whose run returns the work’s value', () => {
    const span = startSpan('upstream.attempt', { 'lattice.upstream.retry': false });
    expect(span).toBe(NO_SPAN);
    expect(span.sibling('upstream.attempt', {})).toBe(NO_SPAN);
    expect(span.run(() => activeSpan() ?? 'none')).toBe('none');
    span.end(new Error('refused'));
  });

  it('lets a failure of the work through unchanged', async () => {
    const failure = new Error('Redis is down');
    await expect(traced('x', {}, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(() =>
      inServerSpan('x', {}, {}, () => {
        throw failure;
      }),
    ).toThrow(failure);
  });
});
