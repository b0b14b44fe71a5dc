import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * A plain round-robin HTTP load balancer, as in front of a deployment with no
 * stickiness: every request (not every connection) goes to the next target,
 * and a WebSocket upgrade is handed, bytes as they come, to the next one too.
 * `hits` counts what each target received.
 */
export class RoundRobinBalancer {
  readonly hits: number[];
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly targets: readonly URL[],
    readonly port: number,
  ) {
    this.hits = targets.map(() => 0);
  }

  /** Listens on a free loopback port in front of `targets` (http origins). */
  static async start(targets: readonly string[]): Promise<RoundRobinBalancer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const balancer = new RoundRobinBalancer(
      server,
      targets.map((t) => new URL(t)),
      port,
    );
    balancer.serve();
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pick(): URL {
    const index = this.next;
    this.next = (this.next + 1) % this.targets.length;
    this.hits[index]++;
    return this.targets[index];
  }

  private serve(): void {
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.server.on('request', (req, res) => {
      const target = this.pick();
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: false,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    this.server.on('upgrade', (req, client: Socket, head: Buffer) => {
      const target = this.pick();
      const upstream = this.track(connect(Number(target.port), target.hostname));
      upstream.on('connect', () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        }
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length) upstream.write(head);
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }
}
