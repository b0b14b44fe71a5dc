import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientLimitsConfig } from '@lattice/config';
import { PerClientCounter } from './per-client.counter';

/**
 * How often Node looks for requests past their deadline (30 s by default,
 * which would let a stalled request live half a minute past its own).
 */
const DEADLINE_CHECK_INTERVAL_MS = 1_000;

/**
 * Deadlines for what clients send, enforced by Node's HTTP server on every
 * connection at once (no timer per request): the headers of a request within
 * `headersTimeoutMs`, the whole request, body included, within
 * `requestTimeoutMs` of its start. Past either, the client gets 408 and its
 * connection is closed. A request is timed only until it has arrived, not
 * while its answer is made or sent, and WebSockets not at all once upgraded.
 * Call it before the server listens: Node reads the check interval then.
 */
export function applyClientDeadlines(
  server: Server,
  limits: Pick<ClientLimitsConfig, 'headersTimeoutMs' | 'requestTimeoutMs'>,
): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // A createServer() option, also read from the server when it starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    DEADLINE_CHECK_INTERVAL_MS;
}

/**
 * Closes at once every connection beyond `max` that one address holds open.
 * Addresses are the TCP peers': behind a load balancer (TRUST_PROXY=true)
 * every connection comes from the balancer, so the caller does not cap there
 * and the balancer must cap its own clients.
 */
export function capConnectionsPerClient(server: Server, max: number): void {
  const open = new PerClientCounter(max);
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress;
    if (client === undefined) return;
    if (!open.tryTake(client)) return void socket.destroy();
    socket.once('close', () => open.release(client));
  });
}
