import { ConfigService, loadConfig } from '@lattice/config';
import { GithubClient } from './github.client';

/** GithubClient against a stubbed fetch: no request leaves the process. */
describe('GithubClient', () => {
  const config = new ConfigService(
    loadConfig('gateway', { GITHUB_API_URL: 'https://github.example/api/' }),
  );
  const client = new GithubClient(config, { githubTimeoutMs: 100 });
  let fetchMock: jest.SpyInstance;

  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    fetchMock.mockResolvedValueOnce(
      new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers }),
    );

  beforeEach(() => {
    fetchMock = jest.spyOn(globalThis, 'fetch');
  });

  afterEach(() => fetchMock.mockRestore());

  it('asks GET {GITHUB_API_URL}/users/{id} with a user agent, and returns the user', async () => {
    answer(200, { login: 'Octocat', name: 'Mona' });
    await expect(client.user('octocat')).resolves.toEqual({ login: 'Octocat', name: 'Mona' });
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('https://github.example/api/users/octocat');
    expect((init.headers as Record<string, string>)['user-agent']).toBeTruthy();
    expect(init.signal).toBeInstanceOf(AbortSignal);
  });

  it('never sends a request for an id GitHub could not have', async () => {
    for (const id of ['../admin', 'a/b', 'a?x=1', '-a', '']) {
      await expect(client.user(id)).rejects.toMatchObject({ status: 404 });
    }
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('is NOT_FOUND when GitHub says 404', async () => {
    answer(404, { message: 'Not Found' });
    await expect(client.user('ghost')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it.each([
    [500, {}, /GitHub answered 500/],
    [502, {}, /GitHub answered 502/],
    [403, { 'x-ratelimit-remaining': '0' }, /rate-limiting/],
    [429, {}, /rate-limiting/],
    [401, {}, /GitHub answered 401/],
  ])('is UNAVAILABLE when GitHub answers %i', async (status, headers, message) => {
    answer(status, { message: 'nope' }, headers);
    const error = client.user('octocat');
    await expect(error).rejects.toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    await expect(error).rejects.toThrow(message);
  });

  it('is UNAVAILABLE for an answer that is not a user', async () => {
    answer(200, '<html>');
    await expect(client.user('octocat')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    answer(200, [{ login: 'x' }]);
    await expect(client.user('octocat')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    answer(200, 'x'.repeat(300 * 1024));
    await expect(client.user('octocat')).rejects.toThrow(/oversized/);
  });

  it('is UNAVAILABLE when GitHub cannot be reached', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('fetch failed'));
    await expect(client.user('octocat')).rejects.toThrow(/could not be reached/);
  });

  it('gives up at the deadline instead of hanging', async () => {
    fetchMock.mockImplementationOnce(
      (_url: string, init: RequestInit) =>
        new Promise((_resolve, reject) =>
          init.signal!.addEventListener('abort', () => reject(init.signal!.reason)),
        ),
    );
    const started = Date.now();
    await expect(client.user('octocat')).rejects.toThrow(/did not answer within 0.1 s/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
