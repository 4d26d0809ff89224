/**
 * How the client shares provider calls: concurrent callers wait on one call,
 * a refresh never reuses the answer of a plain call, and failures do not stick.
 */
import { describe, expect, it } from 'vitest';
import { TesseraTokenError } from '../../src/client/index.js';
import { TokenSource, type TokenRequest } from '../../src/client/token-source.js';

// A provider whose answers the test releases by hand, recording every call.
function gatedProvider() {
  const calls: TokenRequest[] = [];
  const gates: { resolve: (t: string) => void; reject: (e: unknown) => void }[] = [];
  const provider = (request: TokenRequest): Promise<string> => {
    calls.push(request);
    return new Promise<string>((resolve, reject) => gates.push({ resolve, reject }));
  };
  return { calls, gates, provider };
}

describe('TokenSource', () => {
  it('gives concurrent refreshes one shared provider call', async () => {
    const { calls, gates, provider } = gatedProvider();
    const source = new TokenSource(provider);

    const all = Promise.all([source.get(true), source.get(true), source.get(true)]);
    gates[0]!.resolve('fresh');

    expect(await all).toEqual(['fresh', 'fresh', 'fresh']);
    expect(calls).toEqual([{ forceRefresh: true }]);
  });

  it('starts a refresh of its own while a plain call is still pending', async () => {
    const { calls, gates, provider } = gatedProvider();
    const source = new TokenSource(provider);

    const plain = source.get();
    const refresh = source.get(true);
    gates[0]!.resolve('cached');
    gates[1]!.resolve('fresh');

    expect(await plain).toBe('cached');
    expect(await refresh).toBe('fresh');
    expect(calls).toEqual([{ forceRefresh: false }, { forceRefresh: true }]);
  });

  it('lets a plain call join a pending refresh', async () => {
    const { calls, gates, provider } = gatedProvider();
    const source = new TokenSource(provider);

    const refresh = source.get(true);
    const plain = source.get();
    gates[0]!.resolve('fresh');

    expect(await Promise.all([refresh, plain])).toEqual(['fresh', 'fresh']);
    expect(calls).toHaveLength(1);
  });

  it('does not keep a failed provider call: the next caller asks again', async () => {
    const { calls, gates, provider } = gatedProvider();
    const source = new TokenSource(provider);

    const failed = source.get();
    gates[0]!.reject(new Error('offline'));
    await expect(failed).rejects.toBeInstanceOf(TesseraTokenError);

    const next = source.get();
    gates[1]!.resolve('back');
    expect(await next).toBe('back');
    expect(calls).toHaveLength(2);
  });

  it('hands out a fixed string as is and nothing for null', async () => {
    expect(await new TokenSource('fixed').get(true)).toBe('fixed');
    expect(await new TokenSource(null).get()).toBeUndefined();
    expect(new TokenSource('fixed').canRefresh).toBe(false);
  });
});
