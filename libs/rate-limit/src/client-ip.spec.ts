import { clientIpKey, loginRateLimitKey } from './client-ip';

describe('clientIpKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002::abcd', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
    ['', 'unknown'],
  ])('keys %s as %s', (ip, key) => {
    expect(clientIpKey(ip)).toBe(key);
  });

  it('puts every address of one IPv6 /64 under one key, and other /64s apart', () => {
    expect(clientIpKey('2001:db8:aa:bb:1::1')).toBe(clientIpKey('2001:db8:aa:bb:ffff::9'));
    expect(clientIpKey('2001:db8:aa:bb::1')).not.toBe(clientIpKey('2001:db8:aa:bc::1'));
  });
});

describe('loginRateLimitKey', () => {
  it('joins the client address and the lower-cased login', () => {
    expect(loginRateLimitKey('203.0.113.9', 'Alice.B')).toBe('203.0.113.9:alice.b');
    expect(loginRateLimitKey('::ffff:203.0.113.9', 'ALICE')).toBe(
      loginRateLimitKey('203.0.113.9', 'alice'),
    );
  });
});
