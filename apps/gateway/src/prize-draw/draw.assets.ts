import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '@lattice/common';

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

/**
 * The pages talk only to their own origin: scripts and styles from
 * /draw/assets, the API and the Socket.IO connection on the same host.
 * Avatars come from wherever GitHub serves them. No inline script or style.
 */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https: http: data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

/**
 * The bundle Socket.IO clients load. socket.io-client's own copy when it is
 * installed; the production image has no dev dependencies, so otherwise the
 * identical bundle the socket.io server package ships.
 */
function socketIoClientBundle(): string {
  for (const [pkg, path] of [
    ['socket.io-client', 'dist/socket.io.min.js'],
    ['socket.io', 'client-dist/socket.io.min.js'],
  ]) {
    try {
      return join(dirname(require.resolve(`${pkg}/package.json`)), path);
    } catch {
      // not installed: try the next one
    }
  }
  throw new Error('No Socket.IO client bundle found (socket.io-client or socket.io)');
}

/** Source map comments point at files not served here. */
const withoutSourceMap = (text: string): string =>
  text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');

function asset(name: string, body: Buffer): Asset {
  const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, gzipped: gzipSync(body, { level: 9 }), type, etag };
}

/**
 * The draw pages and their assets, read and compressed once at start-up and
 * served from memory: the two pages at /draw and /draw/admin, and under
 * /draw/assets/ Bulma, the Socket.IO client, and the pages' own CSS and JS.
 */
@Injectable()
export class DrawAssets {
  private readonly pages = new Map<string, Asset>();
  private readonly assets = new Map<string, Asset>();

  constructor() {
    const own = (file: string) => readFileSync(join(__dirname, 'pages', file));
    for (const page of ['draw.html', 'admin.html']) this.pages.set(page, asset(page, own(page)));
    for (const file of ['draw.css', 'draw-common.js', 'draw.js', 'admin.js']) {
      this.assets.set(file, asset(file, own(file)));
    }
    this.assets.set(
      'bulma.min.css',
      asset('bulma.min.css', readFileSync(require.resolve('bulma/css/bulma.min.css'))),
    );
    const socketIo = withoutSourceMap(readFileSync(socketIoClientBundle(), 'utf8'));
    this.assets.set('socket.io.min.js', asset('socket.io.min.js', Buffer.from(socketIo)));
  }

  sendPage(name: 'draw.html' | 'admin.html', request: FastifyRequest, reply: FastifyReply): void {
    void reply.headers(PAGE_HEADERS);
    this.send(this.pages.get(name)!, request, reply);
  }

  sendAsset(name: string, request: FastifyRequest, reply: FastifyReply): void {
    const found = this.assets.get(name);
    if (!found) throw new NotFoundError(`No asset ${name}`);
    void reply.header('x-content-type-options', 'nosniff');
    this.send(found, request, reply);
  }

  private send(file: Asset, request: FastifyRequest, reply: FastifyReply): void {
    // Revalidated on every use (a cheap 304), so a new deployment is seen at once.
    void reply
      .header('cache-control', 'no-cache')
      .header('etag', file.etag)
      .header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === file.etag) {
      void reply.status(304).send();
      return;
    }
    void reply.type(file.type);
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      void reply.header('content-encoding', 'gzip').send(file.gzipped);
    } else {
      void reply.send(file.body);
    }
  }
}
