import type { Socket } from 'socket.io';
import { handshakeToken, isForeignOrigin } from './socket.authenticator';

type Handshake = Socket['handshake'];
const handshake = (
  headers: Record<string, string>,
  auth: Record<string, unknown> = {},
): Handshake => ({ headers, auth }) as unknown as Handshake;

describe('socket handshakes', () => {
  it('takes the token from auth.token, then a bearer header, then the sid cookie', () => {
    const cookie = 'theme=dark; sid=from-cookie';
    expect(handshakeToken(handshake({ cookie }, { token: 'from-auth' }))).toEqual({
      token: 'from-auth',
      via: 'auth',
    });
    expect(handshakeToken(handshake({ cookie, authorization: 'Bearer from-header' }))).toEqual({
      token: 'from-header',
      via: 'bearer',
    });
    expect(handshakeToken(handshake({ cookie }))).toEqual({ token: 'from-cookie', via: 'cookie' });
    expect(handshakeToken(handshake({ cookie: 'sidx=no; xsid=no' }))).toBeNull();
    expect(handshakeToken(handshake({}, { token: 42 }))).toBeNull();
  });

  it('refuses cookie handshakes from foreign origins only', () => {
    const allowed = ['https://app.example.com'];
    const at = (origin?: string) =>
      handshake(origin ? { host: 'rt.example.com', origin } : { host: 'rt.example.com' });
    expect(isForeignOrigin(at(), allowed)).toBe(false);
    expect(isForeignOrigin(at('https://rt.example.com'), allowed)).toBe(false);
    expect(isForeignOrigin(at('https://app.example.com'), allowed)).toBe(false);
    expect(isForeignOrigin(at('https://evil.example'), allowed)).toBe(true);
    expect(isForeignOrigin(at('null'), allowed)).toBe(true);
  });
});
