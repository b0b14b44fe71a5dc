import { platformRoutes, proxyRoute, RouteTable } from './route.table';

describe('RouteTable', () => {
  const table = new RouteTable([
    ...platformRoutes('http://auth:3001/', 'http://realtime:3002'),
    proxyRoute({ prefix: '/orders', upstream: 'http://orders:4000', auth: 'required' }),
    proxyRoute({
      prefix: '/orders/archive',
      upstream: 'http://archive:4001/v2/',
      auth: 'none',
      rateLimit: { limit: 5, windowSeconds: 60 },
    }),
  ]);

  const urlsOf = (url: string) => table.match(url)?.targets.targets.map((t) => t.url);

  it('matches whole path segments, the longest prefix first, ignoring the query', () => {
    expect(urlsOf('/orders')).toEqual(['http://orders:4000']);
    expect(urlsOf('/orders/1?x=/orders/archive')).toEqual(['http://orders:4000']);
    expect(urlsOf('/orders/archive/7')).toEqual(['http://archive:4001/v2']);
    expect(table.match('/orders?page=2')?.prefix).toBe('/orders');
    expect(table.match('/orders-old')).toBeUndefined();
    expect(table.match('/order')).toBeUndefined();
    expect(table.match('/')).toBeUndefined();
  });

  it('sends /auth and /realtime to the platform apps, checked by the apps themselves', () => {
    expect(table.match('/auth/login')).toMatchObject({ prefix: '/auth', auth: 'platform' });
    expect(urlsOf('/auth/login')).toEqual(['http://auth:3001']);
    expect(table.match('/realtime/presence/x')?.auth).toBe('platform');
  });

  it('keeps every target of a route listed with several, in order', () => {
    const several = new RouteTable([
      proxyRoute({ prefix: '/pool', upstream: ['http://a:1/', 'http://b:2/v1'], auth: 'none' }),
    ]);
    expect(several.match('/pool/x')?.targets.targets.map((t) => t.url)).toEqual([
      'http://a:1',
      'http://b:2/v1',
    ]);
  });

  it('names a route’s own rate limit after its prefix', () => {
    expect(table.match('/orders/archive')?.rateLimit).toEqual({
      name: 'route.orders.archive',
      limit: 5,
      windowSeconds: 60,
    });
    expect(table.match('/orders')?.rateLimit).toBeUndefined();
  });
});
