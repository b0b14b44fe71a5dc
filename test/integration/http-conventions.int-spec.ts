import { Body, Controller, Get, Post } from '@nestjs/common';
import { z } from 'zod';
import { ZodDto } from '@lattice/api';
import { shutDown } from '@lattice/http';
import { RedisServer, sleep, waitFor } from '../harness';
import { startTestApp, type TestApp } from '../fixtures/test-app';
import { Public } from '@lattice/common';

class EchoBody extends ZodDto(
  z.strictObject({ name: z.string().min(1).max(10), count: z.number().int().optional() }),
) {}

@Public()
@Controller('test')
class ProbeController {
  @Post('echo')
  echo(@Body() body: EchoBody): EchoBody {
    return body;
  }

  @Get('boom')
  boom(): never {
    throw new Error('connect ECONNREFUSED 10.1.2.3:6379 at /srv/app/internal.js');
  }

  @Get('slow')
  async slow(): Promise<{ done: true }> {
    await sleep(600);
    return { done: true };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('HTTP conventions of every app (contract section 3)', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp({ env: { REDIS_URL: redis.url }, controllers: [ProbeController] });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.dispose();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(t.url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('accepts a valid body and returns JSON', async () => {
    const res = await post('/test/echo', JSON.stringify({ name: 'ada', count: 2 }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: 'ada', count: 2 });
  });

  it.each([
    ['malformed JSON', '{"name": ', 400, 'MALFORMED_JSON'],
    ['an unknown field', JSON.stringify({ name: 'ada', admin: true }), 400, 'VALIDATION_FAILED'],
    ['a wrong type', JSON.stringify({ name: 42 }), 400, 'VALIDATION_FAILED'],
    ['an over-long string', JSON.stringify({ name: 'x'.repeat(11) }), 400, 'VALIDATION_FAILED'],
    [
      'a body over 1 MiB',
      JSON.stringify({ name: 'x'.repeat(1024 * 1024) }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
  ])('answers %s with %i and the error body', async (_what, body, status, code) => {
    const res = await post('/test/echo', body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ statusCode: status, code });
    expect(typeof json.message).toBe('string');
    expect(json.requestId).toBe(res.headers.get('x-request-id'));
    expect(JSON.stringify(json)).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('lists what is wrong with each field in details', async () => {
    const res = await post('/test/echo', JSON.stringify({ name: '', extra: 1 }));
    const json = (await res.json()) as {
      message: string;
      details: { path: string; message: string }[];
    };
    expect(json.details.map((d) => d.path).sort()).toEqual(['(root)', 'name']);
    expect(json.message).toMatch(/^Invalid request body: /);
  });

  it('answers an unknown route with a 404 error body', async () => {
    const res = await fetch(t.url('/no/such/route'));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });

  it('hides the internals of an unexpected error behind a 500', async () => {
    const res = await fetch(t.url('/test/boom'));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ statusCode: 500, code: 'INTERNAL' });
    expect(text).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|internal\.js|stack/);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const kept = await fetch(t.url('/api/none'), { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42.a:b');
    const replaced = await fetch(t.url('/test/boom'), {
      headers: { 'x-request-id': 'bad id\u00e9<script>' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(UUID);
    const generated = await fetch(t.url('/health/live'));
    expect(generated.headers.get('x-request-id')).toMatch(UUID);
  });

  it('serves Prometheus metrics with request durations by route and Redis command counts', async () => {
    await fetch(t.url('/health/ready'));
    const res = await fetch(t.url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(
      /lattice_http_request_duration_seconds_bucket\{.*route="\/health\/ready".*status="200"/,
    );
    expect(text).toMatch(
      /lattice_http_request_duration_seconds_count\{.*route="\/test\/echo".*status="413"/,
    );
    expect(text).toMatch(/lattice_redis_commands_total\{command="ping"\} [1-9]/);
  });

  it('on shutdown: readiness 503 at once, in-flight requests finish, then the server closes', async () => {
    const own = await startTestApp({
      env: { REDIS_URL: redis.url, SHUTDOWN_DELAY_MS: '300' },
      controllers: [ProbeController],
    });
    try {
      await waitFor(
        'readiness',
        async () => (await fetch(own.url('/health/ready'))).status === 200,
      );
    } catch (error) {
      await own.close();
      throw error;
    }
    const inFlight = fetch(own.url('/test/slow')).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));
    await sleep(50);
    const stopping = shutDown(own.app, own.config);
    const ready = await fetch(own.url('/health/ready'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ code: 'UNAVAILABLE' });
    expect((await fetch(own.url('/health/live'))).status).toBe(200);
    await stopping;
    expect(await inFlight).toEqual({ status: 200, body: { done: true } });
    await expect(fetch(own.url('/health/live'))).rejects.toThrow();
  });
});
