import { AllowedHosts } from './allowed-hosts.policy';

describe('AllowedHosts', () => {
  const hosts = new AllowedHosts([
    'blobs.example.com',
    '127.0.0.1:8080',
    '[::1]:9000',
    'CDN.Example.com:443',
  ]);
  const problem = (url: string) => hosts.problem(new URL(url));

  it.each([
    'https://blobs.example.com/a.json',
    'http://blobs.example.com/a?sig=1',
    'http://BLOBS.example.com:80/x',
    'http://127.0.0.1:8080/x',
    'http://2130706433:8080/x',
    'http://[::1]:9000/x',
    'https://cdn.example.com/x',
    'http://cdn.example.com:443/x',
  ])('allows %s', (url) => expect(problem(url)).toBeNull());

  it.each([
    ['http://other.example.com/x', /not in CACHE_SYNC_ALLOWED_HOSTS/],
    ['http://blobs.example.com:8080/x', /not in CACHE_SYNC_ALLOWED_HOSTS/],
    ['https://blobs.example.com:80/x', /not in CACHE_SYNC_ALLOWED_HOSTS/],
    ['http://127.0.0.1/x', /not in CACHE_SYNC_ALLOWED_HOSTS/],
    ['http://127.0.0.1:8081/x', /not in CACHE_SYNC_ALLOWED_HOSTS/],
    ['http://localhost:8080/x', /not in CACHE_SYNC_ALLOWED_HOSTS/],
    ['http://blobs.example.com.evil.net/x', /not in CACHE_SYNC_ALLOWED_HOSTS/],
    ['http://blobs.example.com@evil.net/x', /credentials/],
    ['http://user:pw@blobs.example.com/x', /credentials/],
    ['file:///etc/passwd', /only http and https URLs are fetched, not file:/],
    ['ftp://blobs.example.com/x', /not ftp:/],
    ['gopher://127.0.0.1:8080/x', /not gopher:/],
  ])('refuses %s', (url, reason) => expect(problem(url)).toMatch(reason));

  it('refuses everything when the list is empty', () => {
    expect(new AllowedHosts([]).problem(new URL('http://a/'))).toMatch(
      /CACHE_SYNC_ALLOWED_HOSTS is empty/,
    );
  });
});
