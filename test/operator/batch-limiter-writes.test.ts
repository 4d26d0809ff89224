import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { batchLimiterWrites } from '../../src/operator/batch-limiter-writes.js';

async function consumed(store: RateLimiterMemory, key: string): Promise<number> {
  return (await store.get(key))?.consumedPoints ?? 0;
}

describe('batchLimiterWrites', () => {
  it('writes every request to the store when the limit is small, so it is exact', async () => {
    const store = new RateLimiterMemory({ points: 5, duration: 60 });
    const limiter = batchLimiterWrites(store);
    for (let i = 0; i < 5; i++) await limiter.consume('k');
    expect(await consumed(store, 'k')).toBe(5);
    await expect(limiter.consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
  });

  it('counts locally far from the limit and adds the count to the store on flush', async () => {
    const store = new RateLimiterMemory({ points: 1000, duration: 60 });
    const now = 1_000_000;
    const limiter = batchLimiterWrites(store, { clock: () => now, flushMs: 250 });
    const answers = [];
    for (let i = 0; i < 50; i++) answers.push(await limiter.consume('k'));
    expect(await consumed(store, 'k')).toBe(1);
    expect(answers.at(-1)?.remainingPoints).toBe(950);
    await limiter.flush();
    expect(await consumed(store, 'k')).toBe(50);
  });

  it('goes back to the store once the answer it reuses is older than the flush interval', async () => {
    const store = new RateLimiterMemory({ points: 1000, duration: 60 });
    let now = 1_000_000;
    const limiter = batchLimiterWrites(store, { clock: () => now, flushMs: 250 });
    await limiter.consume('k');
    await limiter.consume('k');
    now += 300;
    await limiter.consume('k');
    expect(await consumed(store, 'k')).toBe(3);
  });

  it('stops granting locally inside the headroom and rejects at the limit', async () => {
    const store = new RateLimiterMemory({ points: 100, duration: 60 });
    const limiter = batchLimiterWrites(store, { clock: () => 1_000_000 });
    let granted = 0;
    for (let i = 0; i < 120; i++) {
      try {
        await limiter.consume('k');
        granted++;
      } catch (e) {
        expect(e).toBeInstanceOf(RateLimiterRes);
      }
    }
    await limiter.flush();
    expect(granted).toBe(100);
    expect(await consumed(store, 'k')).toBeGreaterThanOrEqual(100);
  });
});
