/**
 * The batching limiter against real counters in PostgreSQL (and Redis), with an injected clock
 * and flushes called by hand, so every count below is exact. Statements are counted on the
 * real connections the store uses.
 */
import knexFactory, { type Knex } from 'knex';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchLimiterWrites, type BatchOptions } from '../../src/operator/batch-limiter-writes.js';
import { closeLimiterConnections, createCounterStoreFactory, createLimiterFactory } from '../../src/operator/create-limiter-factory.js';
import { migrateOperatorSchema } from '../../src/operator/migrate-operator-schema.js';
import { testDatabaseUrl } from '../support/test-app.js';
import { countStatements } from './count-statements.js';
import { uniqueSchema } from './operator-fixtures.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** No timer flush during a test: flushes happen when a test calls them. */
const MANUAL = 3_600_000;

/** A pool of its own whose every statement goes into `statements`. */
function countedKnex(statements: string[]): Knex {
  const knex = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 2 } });
  countStatements(knex, () => true, statements);
  return knex;
}

async function outcome(promise: Promise<RateLimiterRes>): Promise<number | 'limited'> {
  try {
    return (await promise).remainingPoints;
  } catch (e) {
    if (e instanceof RateLimiterRes) return 'limited';
    throw e;
  }
}

describe('batchLimiterWrites on PostgreSQL', () => {
  const schema = uniqueSchema('batch');
  const statements: string[] = [];
  // The limiters' pools are counted; `check` reads and changes the table for the assertions.
  let knex: Knex;
  let other: Knex;
  let check: Knex;
  let name = 0;

  beforeAll(async () => {
    knex = countedKnex(statements);
    other = countedKnex(statements);
    check = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 2 } });
    await migrateOperatorSchema(check, { schema });
  });

  afterAll(async () => {
    await check.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await Promise.all([knex.destroy(), other.destroy(), check.destroy()]);
  });

  /** A fresh limiter name per test, so counters never carry over. */
  function build(points: number, opts: BatchOptions & { on?: Knex; name?: string } = {}) {
    const spec = { name: opts.name ?? `t${(name += 1)}`, points, durationSec: 60 };
    const store = createCounterStoreFactory({ knex: opts.on ?? knex, schema })(spec);
    return { spec, store, limiter: batchLimiterWrites(store, { flushMs: MANUAL, clock: () => 1_000_000, ...opts }) };
  }

  const stored = async (spec: { name: string }, key: string): Promise<number> => {
    const row = await check.withSchema(schema).table('rate_limits').where('key', `${spec.name}:${key}`).first<{ points: number } | undefined>();
    return row?.points ?? 0;
  };

  it('grants many distinct keys with no statement, then writes them all in one', async () => {
    const { spec, limiter } = build(600);
    const before = statements.length;
    const remaining = [];
    for (let i = 0; i < 300; i++) remaining.push((await limiter.consume(`user-${i}`)).remainingPoints);
    expect(statements.length).toBe(before);
    expect(new Set(remaining)).toEqual(new Set([599]));

    await limiter.flush();
    expect(statements.length).toBe(before + 1);
    const rows = await check.withSchema(schema).table('rate_limits').where('key', 'like', `${spec.name}:%`).select('points', 'expire');
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((r) => r.points))).toEqual(new Set([1]));
    // The library's own window: about `duration` from now.
    for (const r of rows) expect(Math.abs(Number(r.expire) - (Date.now() + 60_000))).toBeLessThan(10_000);

    // Every key now has a fresh answer: a second round is local again, and one more statement.
    for (let i = 0; i < 300; i++) await limiter.consume(`user-${i}`);
    await limiter.flush();
    expect(statements.length).toBe(before + 2);
    expect(await stored(spec, 'user-7')).toBe(2);
  });

  it('splits a flush into one statement per maxBatch keys', async () => {
    const { spec, limiter } = build(600, { maxBatch: 100 });
    const before = statements.length;
    for (let i = 0; i < 250; i++) await limiter.consume(`k${i}`);
    // Reaching maxBatch starts a flush at once; wait for it, then send the rest.
    await limiter.flush();
    await limiter.flush();
    expect(statements.length).toBe(before + 3);
    const [{ n }] = await check.withSchema(schema).table('rate_limits').where('key', 'like', `${spec.name}:%`).sum({ n: 'points' });
    expect(Number(n)).toBe(250);
  });

  it('writes the same counters as rate-limiter-flexible, window included', async () => {
    const { spec, limiter } = build(600);
    const plain = createLimiterFactory({ knex, schema })(spec);
    await plain.consume('k', 5);
    await limiter.consume('k');
    await limiter.flush();
    expect((await plain.get('k'))?.consumedPoints).toBe(6);

    // A row whose window ended starts over at what the flush adds, with a new expiry.
    await check.withSchema(schema).table('rate_limits').where('key', `${spec.name}:k`).update({ expire: Date.now() - 1000 });
    const fresh = build(600, { name: spec.name });
    await fresh.limiter.consume('k');
    await fresh.limiter.flush();
    const after = await plain.get('k');
    expect(after?.consumedPoints).toBe(1);
    expect(after?.msBeforeNext).toBeGreaterThan(50_000);
  });

  it('gives a key it has no answer for ONE local grant; the next request goes to the store', async () => {
    const { spec, limiter } = build(600);
    const before = statements.length;
    await limiter.consume('k');
    expect(statements.length).toBe(before);
    const second = await limiter.consume('k');
    expect(statements.length).toBe(before + 1);
    // The store got both grants in that one write.
    expect(second.consumedPoints).toBe(2);
    expect(await stored(spec, 'k')).toBe(2);
  });

  it('holds at most `lease` unacknowledged grants per key (15 for 600)', async () => {
    const { spec, limiter } = build(600);
    const before = statements.length;
    const remaining: number[] = [];
    for (let i = 0; i < 100; i++) remaining.push((await limiter.consume('k')).remainingPoints);
    // 1 local; a write; then 15 local and a write, six times over; 2 local.
    expect(statements.length - before).toBe(7);
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => 599 - i));
    await limiter.flush();
    expect(await stored(spec, 'k')).toBe(100);
  });

  it('gives one local grant again once its answer is older than two flush intervals', async () => {
    let now = 1_000_000;
    const { limiter } = build(600, { flushMs: 250, clock: () => now });
    await limiter.consume('k');
    await limiter.consume('k'); // the write: a fresh answer
    const before = statements.length;
    now += 501;
    await limiter.consume('k');
    expect(statements.length).toBe(before);
    await limiter.consume('k');
    expect(statements.length).toBe(before + 1);
  });

  it('is exact near the limit: every request there goes to the store, and the limit holds', async () => {
    const { spec, limiter } = build(100);
    const results: Array<number | 'limited'> = [];
    const statementsAt: number[] = [];
    for (let i = 0; i < 120; i++) {
      results.push(await outcome(limiter.consume('k')));
      statementsAt.push(statements.length);
    }
    expect(results).toEqual([...Array.from({ length: 100 }, (_, i) => 99 - i), ...Array<'limited'>(20).fill('limited')]);
    // From 80 (the limit less its headroom of 20) on, one statement per request.
    for (let i = 80; i < 120; i++) expect(statementsAt[i]! - statementsAt[i - 1]!).toBe(1);
    await limiter.flush();
    expect(await stored(spec, 'k')).toBe(120);
  });

  it('keeps a small limit exact: no local grants at all', async () => {
    const { limiter } = build(4);
    const before = statements.length;
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await outcome(limiter.consume('k')));
    expect(results).toEqual([3, 2, 1, 0, 'limited', 'limited']);
    expect(statements.length - before).toBe(6);
  });

  it('bounds the overshoot of two processes on one key by 2 × lease', async () => {
    // Two pools stand for two processes; 100 points: headroom 20, lease 2.
    const spec = { name: `two${(name += 1)}`, points: 100, durationSec: 60 };
    const a = batchLimiterWrites(createCounterStoreFactory({ knex, schema })(spec), { flushMs: MANUAL, clock: () => 1_000_000 });
    const b = batchLimiterWrites(createCounterStoreFactory({ knex: other, schema })(spec), { flushMs: MANUAL, clock: () => 1_000_000 });
    let granted = 0;
    for (let i = 0; i < 80; i++) {
      for (const p of [a, b]) if ((await outcome(p.consume('k'))) !== 'limited') granted += 1;
      if (i % 5 === 4) await Promise.all([a.flush(), b.flush()]);
    }
    await Promise.all([a.flush(), b.flush()]);
    expect(granted).toBeGreaterThanOrEqual(100);
    expect(granted).toBeLessThanOrEqual(104);
    // Every grant and every refused request is in the store.
    expect(await stored(spec, 'k')).toBe(160);
    // Once over, both refuse.
    expect([await outcome(a.consume('k')), await outcome(b.consume('k'))]).toEqual(['limited', 'limited']);
  });

  it('reaches that bound only when another writer takes the rest while both hold their lease', async () => {
    const spec = { name: `worst${(name += 1)}`, points: 100, durationSec: 60 };
    const plain = createLimiterFactory({ knex: other, schema })(spec);
    const a = batchLimiterWrites(createCounterStoreFactory({ knex, schema })(spec), { flushMs: MANUAL, clock: () => 1_000_000 });
    const b = batchLimiterWrites(createCounterStoreFactory({ knex: other, schema })(spec), { flushMs: MANUAL, clock: () => 1_000_000 });
    await plain.consume('k', 70);
    // Each learns the total (72, then 74) and may hold two grants below 80.
    for (const p of [a, b]) for (let i = 0; i < 4; i++) await p.consume('k');
    // A third writer, exact against the store, takes the 26 the store still has.
    expect((await plain.consume('k', 26)).remainingPoints).toBe(0);
    await Promise.all([a.flush(), b.flush()]);
    // 70 + 4 + 4 + 26 granted: 4 (2 × lease) past the limit, and no more.
    expect(await stored(spec, 'k')).toBe(104);
    expect([await outcome(a.consume('k')), await outcome(b.consume('k'))]).toEqual(['limited', 'limited']);
  });

  it('fails closed once a flush fails, and sends the held grants when the store is back', async () => {
    const { spec, limiter } = build(600);
    await limiter.consume('k');
    await limiter.flush();
    await limiter.consume('k'); // local: a fresh answer, far from the limit
    await check.raw('ALTER TABLE ??.rate_limits RENAME TO rate_limits_away', [schema]);
    try {
      await limiter.flush();
      await expect(limiter.consume('k')).rejects.not.toBeInstanceOf(RateLimiterRes);
      await expect(limiter.consume('never-seen')).rejects.toThrow();
    } finally {
      await check.raw('ALTER TABLE ??.rate_limits_away RENAME TO rate_limits', [schema]);
    }
    // The store answers again: the next request is written with the grant held since the failure.
    expect((await limiter.consume('k')).consumedPoints).toBe(3);
    expect(await stored(spec, 'k')).toBe(3);
  });

  it('close stops granting locally and sends what is pending in one statement', async () => {
    const { spec, limiter } = build(600);
    for (let i = 0; i < 50; i++) await limiter.consume(`c${i}`);
    const before = statements.length;
    await limiter.close();
    expect(statements.length).toBe(before + 1);
    expect(await stored(spec, 'c49')).toBe(1);
    await limiter.consume('after-close');
    expect(statements.length).toBe(before + 2);
    expect(await stored(spec, 'after-close')).toBe(1);
  });
});

describe('batchLimiterWrites on Redis', () => {
  const prefix = uniqueSchema('batch_redis');
  let knex: Knex;

  beforeAll(() => {
    knex = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 1 } });
  });
  afterAll(async () => {
    await closeLimiterConnections();
    await knex.destroy();
  });

  it('adds the batched grants to the counters RateLimiterRedis reads, with its expiry', async () => {
    const spec = { name: 'q', points: 600, durationSec: 60 };
    const store = createCounterStoreFactory({ knex, schema: prefix, redisUrl: REDIS_URL })(spec);
    const limiter = batchLimiterWrites(store, { flushMs: MANUAL, clock: () => 1_000_000 });
    await store.limiter.consume('a', 4);
    for (const key of ['a', 'b', 'c']) await limiter.consume(key);
    await limiter.flush();
    const counts = await Promise.all(['a', 'b', 'c'].map((k) => store.limiter.get(k)));
    expect(counts.map((c) => c?.consumedPoints)).toEqual([5, 1, 1]);
    for (const c of counts) expect(c!.msBeforeNext).toBeGreaterThan(50_000);
    await Promise.all(['a', 'b', 'c'].map((k) => store.limiter.delete(k)));
  });
});
