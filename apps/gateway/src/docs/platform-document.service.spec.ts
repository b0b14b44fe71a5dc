import { Logger } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ConfigService, loadConfig } from '@lattice/config';
import type { ApiDocument } from '@lattice/http';
import { PlatformDocument } from './platform-document.service';

const documentWith = (path: string): OpenAPIObject => ({
  openapi: '3.0.3',
  info: { title: 'T', version: '1' },
  paths: { [path]: { get: { responses: { 200: { description: 'ok' } } } } },
});

/** PlatformDocument against a stubbed fetch and clock: no request leaves the process. */
describe('PlatformDocument', () => {
  const config = new ConfigService(
    loadConfig('gateway', { AUTH_URL: 'http://auth.test/', REALTIME_URL: 'http://realtime.test' }),
  );
  const own = { document: documentWith('/api/ping') } as ApiDocument;
  let now = 1_000_000;
  let authUp = true;
  let fetchMock: jest.SpyInstance;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    fetchMock = jest.spyOn(globalThis, 'fetch').mockImplementation((url) => {
      if (String(url).startsWith('http://auth.test') && !authUp) {
        return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
      }
      const path = String(url).startsWith('http://auth.test') ? '/auth/login' : '/realtime/x';
      return Promise.resolve(new Response(JSON.stringify(documentWith(path)), { status: 200 }));
    });
  });

  afterEach(() => jest.restoreAllMocks());

  const paths = async (document: PlatformDocument) =>
    Object.keys((JSON.parse(await document.json()) as OpenAPIObject).paths);

  it("keeps each app's document a minute, and its last copy while the app is down", async () => {
    const document = new PlatformDocument(own, config);
    expect(await paths(document)).toEqual(['/api/ping', '/auth/login', '/realtime/x']);
    expect(fetchMock.mock.calls.map(([url]) => String(url))).toEqual([
      'http://auth.test/docs/json',
      'http://realtime.test/docs/json',
    ]);
    now += 59_000;
    await document.json();
    expect(fetchMock).toHaveBeenCalledTimes(2);

    authUp = false;
    now += 2_000;
    expect(await paths(document)).toEqual(['/api/ping', '/auth/login', '/realtime/x']);
    expect(fetchMock).toHaveBeenCalledTimes(4);
    now += 4_000; // a failed app is asked again 5 s later, not at every request
    await document.json();
    expect(fetchMock).toHaveBeenCalledTimes(4);
    now += 1_000;
    await document.json();
    expect(fetchMock).toHaveBeenCalledTimes(5);
  });
});
