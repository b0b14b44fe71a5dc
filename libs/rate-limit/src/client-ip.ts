import { isIPv4, isIPv6 } from 'node:net';

/** Expands an IPv6 address (zone dropped, embedded IPv4 allowed) to its eight 16-bit groups. */
function ipv6Groups(address: string): number[] | undefined {
  const text = address.split('%')[0];
  if (!isIPv6(text)) return undefined;
  const halves = text.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const head = parse(halves[0]);
  const tail = halves.length > 1 ? parse(halves[1]) : [];
  const zeros = new Array<number>(8 - head.length - tail.length).fill(0);
  return [...head, ...zeros, ...tail];
}

/**
 * The client part of a rate-limit key. IPv4 as it is; IPv4-mapped IPv6 as the
 * IPv4 address; other IPv6 addresses by their /64 network, as one subscriber
 * is usually given a whole /64 and could otherwise rotate through it.
 */
export function clientIpKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  if (isIPv4(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The key of the login policy: the client's address and the lower-cased login. */
export function loginRateLimitKey(ip: string | undefined, login: string): string {
  return `${clientIpKey(ip)}:${login.toLowerCase()}`;
}
