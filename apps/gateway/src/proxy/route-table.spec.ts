import { platformRoutes, proxyRoute, RouteTable } from './route-table';

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

  it('matches whole path segments, the longest prefix first, ignoring the query', () => {
    expect(table.match('/orders')?.target).toBe('http://orders:4000');
    expect(table.match('/orders/1?x=/orders/archive')?.target).toBe('http://orders:4000');
    expect(table.match('/orders/archive/7')?.target).toBe('http://archive:4001/v2');
    expect(table.match('/orders?page=2')?.prefix).toBe('/orders');
    expect(table.match('/orders-old')).toBeUndefined();
    expect(table.match('/order')).toBeUndefined();
    expect(table.match('/')).toBeUndefined();
  });

  it('sends /auth and /realtime to the platform apps, checked by the apps themselves', () => {
    expect(table.match('/auth/login')).toEqual({
      prefix: '/auth',
      target: 'http://auth:3001',
      auth: 'platform',
    });
    expect(table.match('/realtime/presence/x')?.auth).toBe('platform');
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
