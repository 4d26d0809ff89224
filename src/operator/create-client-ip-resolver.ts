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
