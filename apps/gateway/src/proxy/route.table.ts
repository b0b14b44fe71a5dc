import type { UpstreamRoute } from '@lattice/config';
import { UpstreamTargets } from './upstream.targets';

/**
 * The cache key (in the platform's cache namespace) of a route table that
 * replaces ROUTES at run time: set it with a cache-sync `SET` event and every
 * gateway instance forwards by it at once; delete it to go back to ROUTES.
 */
export const ROUTE_TABLE_KEY = 'gateway:routes';

/**
 * Where a request goes and what the edge does first. `platform` routes lead
 * to the platform's own apps (auth, realtime), which check sessions and limits
 * themselves: the gateway passes them through and only strips identity headers.
 */
export interface ProxyRoute {
  prefix: string;
  /** Where it is forwarded: one target or several, balanced. */
  targets: UpstreamTargets;
  auth: UpstreamRoute['auth'] | 'platform';
  rateLimit?: { name: string; limit: number; windowSeconds: number };
}

/**
 * The platform's own upstreams: /auth to the auth app, /realtime to the
 * realtime app; one address each (usually a Service in front of all the
 * instances), never taken out of rotation.
 */
export function platformRoutes(authUrl: string, realtimeUrl: string): ProxyRoute[] {
  return [
    {
      prefix: '/auth',
      targets: new UpstreamTargets([authUrl], { breaker: false }),
      auth: 'platform',
    },
    {
      prefix: '/realtime',
      targets: new UpstreamTargets([realtimeUrl], { breaker: false }),
      auth: 'platform',
    },
  ];
}

/**
 * A `ROUTES` entry as the proxy uses it: its targets balanced, each with its
 * passive health (reported to `onRotation`); its own limit named after its prefix.
 */
export function proxyRoute(
  route: UpstreamRoute,
  onRotation?: (url: string, inRotation: boolean) => void,
): ProxyRoute {
  const urls = typeof route.upstream === 'string' ? [route.upstream] : route.upstream;
  return {
    prefix: route.prefix,
    targets: new UpstreamTargets(urls, { onRotation }),
    auth: route.auth,
    rateLimit: route.rateLimit && {
      name: `route${route.prefix.replace(/[^A-Za-z0-9_.-]/g, '.')}`.slice(0, 64),
      limit: route.rateLimit.limit,
      windowSeconds: route.rateLimit.windowSeconds,
    },
  };
}

/** Routes by path prefix: the longest prefix that is the path or a whole-segment start of it wins. */
export class RouteTable {
  private readonly routes: ProxyRoute[];

  constructor(routes: readonly ProxyRoute[]) {
    this.routes = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The route for a request URL (path and query), or undefined. */
  match(url: string): ProxyRoute | undefined {
    const end = url.indexOf('?');
    const path = end === -1 ? url : url.slice(0, end);
    for (const route of this.routes) {
      if (
        path.startsWith(route.prefix) &&
        (path.length === route.prefix.length || path[route.prefix.length] === '/')
      ) {
        return route;
      }
    }
    return undefined;
  }

  get size(): number {
    return this.routes.length;
  }
}
