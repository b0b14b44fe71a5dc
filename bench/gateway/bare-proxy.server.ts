// The peer for bench:gateway: a bare Fastify server with @fastify/http-proxy in
// front of the same upstream — no sessions, no limits, no logs.
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  await app.register(httpProxy, {
    upstream: process.env.UPSTREAM!,
    prefix: '/orders',
    rewritePrefix: '/orders',
    disableRequestLogging: true,
    undici: { connections: 128, keepAliveTimeout: 60_000 },
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  console.log('ready');
  // A graceful exit, so that a CPU profile (BENCH_PROFILE) is written.
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
