/**
 * The client address every limiter keys on. `X-Forwarded-For` is honoured only
 * when the socket peer is a trusted proxy (TESSERA_TRUSTED_PROXIES CIDRs).
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors/engine-error.js';

/** The parts of a request the resolver reads. */
export interface IpSource {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

export type ClientIpResolver = (req: IpSource) => string;

/** `::ffff:10.0.0.1` and `10.0.0.1` are the same client. */
function normaliseIp(ip: string): string {
  const trimmed = ip.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed.toLowerCase();
}

function ipType(ip: string): 'ipv4' | 'ipv6' | undefined {
  const v = isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** Parses the CIDR list once at start-up; a bad entry stops start-up naming the option. */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [rawAddress = '', rawPrefix, ...rest] = entry.trim().split('/');
    const address = normaliseIp(rawAddress);
    const type = ipType(address);
    const maxPrefix = type === 'ipv4' ? 32 : 128;
    const prefix = rawPrefix === undefined ? maxPrefix : Number(rawPrefix);
    if (type === undefined || rest.length > 0 || !/^\d{1,3}$/.test(rawPrefix ?? String(maxPrefix)) || prefix > maxPrefix) {
      throw new ConfigError('TESSERA_TRUSTED_PROXIES', `"${entry}" is not an IP address or CIDR range`);
    }
    trusted.addSubnet(address, prefix, type);
  }
  const isTrusted = (ip: string): boolean => {
    const type = ipType(ip);
    return type !== undefined && trusted.check(ip, type);
  };

  return (req) => {
    const peer = normaliseIp(req.socket.remoteAddress ?? '');
    if (peer === '' || !isTrusted(peer)) return peer === '' ? 'unknown' : peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map(normaliseIp)
      .filter((hop) => hop !== '');
    // Walk from the nearest hop back, skipping our own proxies; the first other address is the client.
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      const hop = hops[i]!;
      if (ipType(hop) === undefined) return peer;
      if (!isTrusted(hop)) return hop;
    }
    return hops[0] ?? peer;
  };
}

/** Eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(ip: string): number[] | undefined {
  const address = ip.split('%')[0] ?? '';
  if (isIP(address) !== 6) return undefined;
  // An embedded IPv4 tail sits in the last 32 bits; only the leading groups matter here.
  const [head = '', tail] = address.replace(/\d+\.\d+\.\d+\.\d+$/, '0:0').split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The bucket a limiter counts an address in. One IPv6 customer usually holds a whole /56 (or
 * more), so IPv6 addresses are counted per /56, as express-rate-limit does; IPv4 per address.
 */
export function limiterBucket(ip: string): string {
  const groups = ipv6Groups(ip);
  if (groups === undefined) return ip;
  const hex = groups.slice(0, 4).map((g) => g.toString(16).padStart(4, '0'));
  return `${hex.slice(0, 3).join(':')}:${(hex[3] ?? '0000').slice(0, 2)}00::/56`;
}
