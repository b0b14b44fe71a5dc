import { ConfigService, loadConfig } from '@lattice/config';
import { PresenceUnavailableError, type SocketRoutesRepository } from '@lattice/presence';
import { SocketSessionRouter } from './socket-session.router';

const REALTIME_URL = 'http://realtime.internal:3002';
const SID = 'AAAAAAAAAAAAAAAAAAAA';

/** The routing rules, with the Redis side stood in for (its own tests run against Redis). */
describe('SocketSessionRouter', () => {
  const routes = { ownerOf: jest.fn(), isInstance: jest.fn() };
  const router = () =>
    new SocketSessionRouter(
      routes as unknown as SocketRoutesRepository,
      new ConfigService(loadConfig('gateway', { REALTIME_URL })),
    );

  beforeEach(() => {
    routes.ownerOf.mockReset();
    routes.isInstance.mockReset();
  });

  it('sends requests without a usable session id to REALTIME_URL without asking Redis', async () => {
    for (const sid of [undefined, '', ['a', 'b'], 'has space', 'x'.repeat(65)]) {
      expect(await router().upstreamFor(sid)).toBe(REALTIME_URL);
    }
    expect(routes.ownerOf).not.toHaveBeenCalled();
  });

  it('sends a session to its live instance, remembering it for a moment', async () => {
    routes.ownerOf.mockResolvedValue('http://10.0.0.7:3002');
    routes.isInstance.mockResolvedValue(true);
    const r = router();
    expect(await r.upstreamFor(SID)).toBe('http://10.0.0.7:3002');
    expect(await r.upstreamFor(SID)).toBe('http://10.0.0.7:3002');
    expect(routes.isInstance).toHaveBeenCalledTimes(1);
  });

  it('sends unknown sessions, sessions of REALTIME_URL and untrusted addresses to REALTIME_URL', async () => {
    routes.isInstance.mockResolvedValue(false);
    for (const owner of [
      null,
      'http://realtime.internal:3002',
      'http://10.0.0.8:3002', // not a live instance
      'http://10.0.0.7:3002/path',
      'http://user@10.0.0.7:3002',
      'ftp://10.0.0.7',
      'gopher',
    ]) {
      routes.ownerOf.mockResolvedValueOnce(owner);
      expect(await router().upstreamFor(SID)).toBe(REALTIME_URL);
    }
    expect(routes.isInstance).toHaveBeenCalledTimes(1);
  });

  it('sends sessions to REALTIME_URL while Redis cannot be read', async () => {
    routes.ownerOf.mockRejectedValue(new PresenceUnavailableError());
    expect(await router().upstreamFor(SID)).toBe(REALTIME_URL);
  });
});
