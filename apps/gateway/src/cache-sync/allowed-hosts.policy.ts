/** One CACHE_SYNC_ALLOWED_HOSTS entry: a normalized host name, and the port it names if any. */
interface AllowedHost {
  hostname: string;
  port: number | null;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Host names as the URL parser writes them: lower case, IPv4 in dotted form, IPv6 in brackets, compressed. */
function normalizeHost(host: string): string | null {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
}

/**
 * The blob allow-list of CONTRACT 6. A URL is allowed when it is http or
 * https, carries no credentials, and its host matches an entry: exactly the
 * entry's port when it names one, else the scheme's default port (80 or 443).
 * Host names are compared after the URL parser's normalization on both sides,
 * so `http://2130706433/` is 127.0.0.1 and `LOCALHOST` is localhost.
 */
export class AllowedHosts {
  private readonly entries: AllowedHost[];

  constructor(list: readonly string[]) {
    this.entries = list.flatMap((entry) => {
      const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry.trim());
      const hostname = match ? normalizeHost(match[1]) : null;
      return hostname ? [{ hostname, port: match![2] ? Number(match![2]) : null }] : [];
    });
  }

  /** Why `url` may not be fetched, or null when it may. */
  problem(url: URL): string | null {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return `only http and https URLs are fetched, not ${url.protocol}`;
    }
    if (url.username || url.password) return 'URLs with credentials are not fetched';
    if (this.entries.length === 0)
      return 'blob fetching is off (CACHE_SYNC_ALLOWED_HOSTS is empty)';
    const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
    const allowed = this.entries.some(
      (entry) =>
        entry.hostname === url.hostname &&
        (entry.port === null ? port === DEFAULT_PORTS[url.protocol] : entry.port === port),
    );
    return allowed ? null : `${url.protocol}//${url.host} is not in CACHE_SYNC_ALLOWED_HOSTS`;
  }
}
