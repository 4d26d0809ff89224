import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/engine-error.js';
import { createClientIpResolver, limiterBucket } from '../../src/operator/create-client-ip-resolver.js';

const req = (peer: string | undefined, xff?: string | string[]) => ({
  headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  socket: { remoteAddress: peer },
});

describe('createClientIpResolver', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8']);
    expect(resolve(req('203.0.113.9', '1.2.3.4'))).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For when no proxy is trusted at all', () => {
    const resolve = createClientIpResolver([]);
    expect(resolve(req('127.0.0.1', '198.51.100.7'))).toBe('127.0.0.1');
  });

  it('takes the client from X-Forwarded-For when the peer is a trusted proxy', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8']);
    expect(resolve(req('10.1.2.3', '198.51.100.7'))).toBe('198.51.100.7');
  });

  it('skips trusted hops from the right so a client cannot prepend a fake address', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8']);
    expect(resolve(req('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.1'))).toBe('198.51.100.7');
  });

  it('falls back to the peer when the forwarded address is not an IP', () => {
    const resolve = createClientIpResolver(['127.0.0.1']);
    expect(resolve(req('127.0.0.1', 'not-an-ip'))).toBe('127.0.0.1');
  });

  it('treats an IPv4-mapped IPv6 peer as its IPv4 address', () => {
    const resolve = createClientIpResolver(['127.0.0.1/32']);
    expect(resolve(req('::ffff:127.0.0.1', '192.0.2.44'))).toBe('192.0.2.44');
  });

  it('matches IPv6 CIDRs', () => {
    const resolve = createClientIpResolver(['fd00::/8']);
    expect(resolve(req('fd12::1', '2001:db8::5'))).toBe('2001:db8::5');
    expect(resolve(req('2001:db8::9', '2001:db8::5'))).toBe('2001:db8::9');
  });

  it('joins repeated X-Forwarded-For headers before reading them', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8']);
    expect(resolve(req('10.0.0.2', ['198.51.100.1', '10.0.0.1']))).toBe('198.51.100.1');
  });

  it.each(['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x'])(
    'refuses the trusted proxy entry %j at start-up, naming TESSERA_TRUSTED_PROXIES',
    (entry) => {
      expect(() => createClientIpResolver([entry])).toThrow(ConfigError);
      expect(() => createClientIpResolver([entry])).toThrow(/TESSERA_TRUSTED_PROXIES/);
    },
  );
});

describe('limiterBucket', () => {
  it('counts IPv4 addresses one by one', () => {
    expect(limiterBucket('203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts IPv6 addresses per /56, however they are written', () => {
    const bucket = '2001:0db8:00ab:cd00::/56';
    expect(limiterBucket('2001:db8:ab:cd12::1')).toBe(bucket);
    expect(limiterBucket('2001:db8:ab:cdff:ffff:ffff:ffff:ffff')).toBe(bucket);
    expect(limiterBucket('2001:0DB8:00AB:CD00:0:0:0:0')).toBe(bucket);
    expect(limiterBucket('2001:db8:ab:ce00::1')).not.toBe(bucket);
    expect(limiterBucket('::1')).toBe('0000:0000:0000:0000::/56');
    expect(limiterBucket('fe80::1%eth0')).toBe('fe80:0000:0000:0000::/56');
    expect(limiterBucket('64:ff9b::192.0.2.1')).toBe('0064:ff9b:0000:0000::/56');
  });
});
