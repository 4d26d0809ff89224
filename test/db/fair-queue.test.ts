import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';
import { createFairQueue } from '../../src/db/fair-queue.js';

const opts = { slots: 2, perKey: 2, queueDepth: 10, waitTimeoutMs: 60_000 };
const settledOrder = (log: string[], key: string, p: Promise<() => void>) => p.then((release) => (log.push(key), release));

describe('createFairQueue', () => {
  it('grants at once while slots and the per-key limit allow', async () => {
    const q = createFairQueue(opts);
    await q.acquire('a');
    await q.acquire('b');
    expect(q.stats()).toEqual({ active: 2, waiting: 0, keys: 2 });
  });

  it('holds one key to its per-key limit even when slots are free', async () => {
    const q = createFairQueue({ ...opts, slots: 4, perKey: 1 });
    await q.acquire('a');
    let second = false;
    void q.acquire('a').then(() => (second = true));
    await q.acquire('b');
    await Promise.resolve();
    expect(second).toBe(false);
    expect(q.stats()).toEqual({ active: 2, waiting: 1, keys: 2 });
  });

  it('hands freed slots to waiting keys in turn, so a flood does not push another key back', async () => {
    const q = createFairQueue({ ...opts, slots: 1, perKey: 1 });
    const first = await q.acquire('a');
    const log: string[] = [];
    const waits = [
      settledOrder(log, 'a', q.acquire('a')),
      settledOrder(log, 'a', q.acquire('a')),
      settledOrder(log, 'a', q.acquire('a')),
      settledOrder(log, 'b', q.acquire('b')),
    ];
    first();
    // Each grant is released at once, so the order of grants is the order of service.
    for (const w of waits) void w.then((release) => setImmediate(release));
    await Promise.all(waits);
    expect(log).toEqual(['a', 'b', 'a', 'a']);
  });

  it('refuses past the queue depth with 429 ERR_RATE_LIMITED and Retry-After', async () => {
    const q = createFairQueue({ ...opts, slots: 1, perKey: 1, queueDepth: 1 });
    await q.acquire('a');
    void q.acquire('a');
    const err = await q.acquire('a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('ERR_RATE_LIMITED');
    expect((err as EngineError).headers).toEqual({ 'Retry-After': '1' });
  });

  it('gives up after the wait timeout with ERR_DB_UNAVAILABLE and leaves no waiter behind', async () => {
    const q = createFairQueue({ ...opts, slots: 1, perKey: 1, waitTimeoutMs: 20 });
    await q.acquire('a');
    const err = (await q.acquire('b').catch((e: unknown) => e)) as EngineError;
    expect(err.code).toBe('ERR_DB_UNAVAILABLE');
    expect(q.stats()).toEqual({ active: 1, waiting: 0, keys: 1 });
  });

  it('drops a waiter whose signal aborts, with the signal reason', async () => {
    const q = createFairQueue({ ...opts, slots: 1, perKey: 1 });
    const release = await q.acquire('a');
    const controller = new AbortController();
    const waiting = q.acquire('b', controller.signal).catch((e: unknown) => e);
    controller.abort(new Error('client gone'));
    expect(((await waiting) as Error).message).toBe('client gone');
    release();
    expect(q.stats()).toEqual({ active: 0, waiting: 0, keys: 0 });
  });

  it('ignores a second release of the same grant', async () => {
    const q = createFairQueue(opts);
    const release = await q.acquire('a');
    release();
    release();
    expect(q.stats().active).toBe(0);
  });
});
