import type { FastifyRequest } from 'fastify';
import {
  clientHeaders,
  upstreamHeaders,
  withoutSessionCookie,
  type ForwardedRequest,
} from './forwarded-headers';
import type { ProxyRoute } from './route.table';

const route = (auth: ProxyRoute['auth']): Pick<ProxyRoute, 'auth'> => ({ auth });

const spoofed = {
  'x-user-id': '999',
  'x-user-login': 'root',
  'x-user-roles': 'admin',
  'x-session-id': 'forged',
};

function request(signedIn: 'bearer' | 'cookie' | null): ForwardedRequest {
  const headers: FastifyRequest['headers'] = { host: 'api.example.com', ...spoofed };
  const base = { headers, id: 'req-1', ip: '203.0.113.9', protocol: 'https' as const };
  if (!signedIn) return base;
  return {
    ...base,
    user: { id: '7', login: 'ada', roles: ['admin', 'ops'] },
    userSession: { id: '7-session' } as ForwardedRequest['userSession'],
    authenticatedVia: signedIn,
  };
}

describe('upstreamHeaders', () => {
  it('replaces client-made identity headers with the signed-in caller’s, keeping the token at the edge', () => {
    const headers = upstreamHeaders(request('bearer'), route('optional'), {
      ...spoofed,
      host: 'orders:4000',
      authorization: 'Bearer 7-session.secret',
      cookie: 'theme=dark',
      'x-forwarded-for': '10.0.0.1',
    });
    expect(headers).toEqual({
      host: 'orders:4000',
      cookie: 'theme=dark',
      'x-request-id': 'req-1',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.com',
      'x-user-id': '7',
      'x-user-login': 'ada',
      'x-user-roles': 'admin,ops',
      'x-session-id': '7-session',
    });
  });

  it('removes the session cookie but keeps the others', () => {
    const headers = upstreamHeaders(request('cookie'), route('required'), {
      cookie: 'a=1; sid=7-session.secret; b=2',
      authorization: 'Basic dXNlcjpwYXNz',
    });
    expect(headers.cookie).toBe('a=1; b=2');
    // Not the session: an upstream's own credentials pass.
    expect(headers.authorization).toBe('Basic dXNlcjpwYXNz');
    expect(withoutSessionCookie('sid=x')).toBeUndefined();
    expect(withoutSessionCookie('sidebar=open')).toBe('sidebar=open');
  });

  it('strips spoofed identity for anonymous callers and on auth: "none", adding none', () => {
    for (const [who, auth] of [
      [null, 'optional'],
      ['bearer', 'none'],
    ] as const) {
      const headers = upstreamHeaders(request(who), route(auth), {
        ...spoofed,
        authorization: 'Bearer 7-session.secret',
      });
      for (const name of Object.keys(spoofed)) expect(headers[name]).toBeUndefined();
      if (auth === 'none') expect(headers.authorization).toBe('Bearer 7-session.secret');
    }
  });

  it('drops the gateway’s own headers spelled with underscores, in any case, on every route', () => {
    const disguised = {
      x_user_id: '999',
      X_User_Login: 'root',
      'x-user_roles': 'admin',
      'X_SESSION-ID': 'forged',
      x_forwarded_for: '10.0.0.1',
      x_request_id: 'forged-id',
    };
    for (const auth of ['optional', 'none', 'platform'] as const) {
      const headers = upstreamHeaders(request(null), route(auth), {
        ...disguised,
        x_trace: 'kept',
        'x-user-idx': 'kept',
      });
      for (const name of Object.keys(disguised)) expect(headers[name]).toBeUndefined();
      expect(headers).toMatchObject({
        x_trace: 'kept',
        'x-user-idx': 'kept',
        'x-request-id': 'req-1',
        'x-forwarded-for': '203.0.113.9',
      });
    }
  });

  it('gives the platform apps the credentials and the public Host, without spoofed identity', () => {
    const headers = upstreamHeaders(request('cookie'), route('platform'), {
      ...spoofed,
      host: 'auth:3001',
      cookie: 'sid=7-session.secret',
    });
    expect(headers).toMatchObject({ host: 'api.example.com', cookie: 'sid=7-session.secret' });
    for (const name of Object.keys(spoofed)) expect(headers[name]).toBeUndefined();
  });
});

describe('clientHeaders', () => {
  it('drops the upstream connection’s own headers and keeps the rest', () => {
    expect(
      clientHeaders({
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'content-type': 'application/json',
        'set-cookie': ['a=1', 'b=2'],
      }),
    ).toEqual({ 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
  });
});
