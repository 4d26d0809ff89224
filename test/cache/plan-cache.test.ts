/**
 * The plan cache's rules: one preparation per query shape and whole verified context (two on
 * first sight), none for clock-dependent queries, none when a hook takes part, no memory of
 * failures, and re-binding only where it is proved: anything else is memoised by exact text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/auth/auth-result.js';
import { createPlanCache } from '../../src/cache/plan-cache.js';
import type { Model } from '../../src/schema/model.js';
import { prepareRequest, type PipelineDeps, type PreparedRequest } from '../../src/server/query-pipeline.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const auth = (ctx: Record<string, unknown>): AuthResult => ({ via: 'jwt', rawContext: ctx, securityContext: ctx, scopes: ['query', 'meta'] });
const NO_MODEL = { cubes: new Map() } as unknown as Model;

function counted() {
  const calls: unknown[] = [];
  return { calls, run: async (q: unknown) => { calls.push(q); return { prepared: q }; } };
}

describe('the plan cache without filter values (the exact memo)', () => {
  it('prepares an identical query from an identical context once', async () => {
    const memo = createPlanCache<object>({ maxEntries: 10, enabled: true, model: NO_MODEL });
    const { calls, run } = counted();
    const a = await memo.prepare({ measures: ['Orders.count'] }, auth({ tenant_id: 2 }), run);
    const b = await memo.prepare({ measures: ['Orders.count'] }, auth({ tenant_id: 2 }), run);
    expect(calls).toHaveLength(1);
    expect(b).toBe(a);
  });

  it('prepares again for a context that differs in any value, or in type', async () => {
    const memo = createPlanCache<object>({ maxEntries: 10, enabled: true, model: NO_MODEL });
    const { calls, run } = counted();
    const q = { measures: ['Orders.count'] };
    await memo.prepare(q, auth({ tenant_id: 2 }), run);
    await memo.prepare(q, auth({ tenant_id: 3 }), run);
    await memo.prepare(q, auth({ tenant_id: '2' }), run);
    await memo.prepare(q, auth({ tenant_id: 2, u: { id: 1 } }), run);
    await memo.prepare(q, { ...auth({ tenant_id: 2 }), via: 'apiKey' }, run);
    expect(calls).toHaveLength(5);
  });

  it.each([
    ['a time dimension dateRange', { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', dateRange: 'last 7 days' }] }],
    ['a date filter', { measures: ['Orders.count'], filters: [{ member: 'Orders.createdAt', operator: 'beforeDate', values: ['today'] }] }],
    ['a compare range', { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', compareDateRange: ['this week', 'last week'] }] }],
  ])('never memoises a query with %s (relative dates follow the clock)', async (_name, q) => {
    const memo = createPlanCache<object>({ maxEntries: 10, enabled: true, model: NO_MODEL });
    const { calls, run } = counted();
    await memo.prepare(q, auth({}), run);
    await memo.prepare(q, auth({}), run);
    expect(calls).toHaveLength(2);
  });

  it('prepares every time when a hook takes part', async () => {
    const memo = createPlanCache<object>({ maxEntries: 10, enabled: false, model: NO_MODEL });
    const { calls, run } = counted();
    await memo.prepare({ measures: ['Orders.count'] }, auth({}), run);
    await memo.prepare({ measures: ['Orders.count'] }, auth({}), run);
    expect(calls).toHaveLength(2);
  });

  it('prepares every time a query over 8 KB', async () => {
    const memo = createPlanCache<object>({ maxEntries: 10, enabled: true, model: NO_MODEL });
    const { calls, run } = counted();
    const q = { measures: ['Orders.count'], dimensions: Array.from({ length: 600 }, (_, i) => `Orders.member${i}`) };
    await memo.prepare(q, auth({}), run);
    await memo.prepare(q, auth({}), run);
    expect(calls).toHaveLength(2);
  });

  it('keeps no failure, so a bad request is checked again in full', async () => {
    const memo = createPlanCache<object>({ maxEntries: 10, enabled: true, model: NO_MODEL });
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('invalid');
    };
    await expect(memo.prepare({ measures: ['X.y'] }, auth({}), failing)).rejects.toThrow('invalid');
    await expect(memo.prepare({ measures: ['X.y'] }, auth({}), failing)).rejects.toThrow('invalid');
    expect(calls).toBe(2);
  });
});

describe('the plan cache over the demo model', () => {
  let app: TestApp;
  let deps: PipelineDeps;
  beforeAll(async () => {
    app = await createTestApp();
    deps = { config: app.config, model: app.deps.model, db: app.deps.db };
  });
  afterAll(async () => app?.close());

  const CTX = auth({ sub: 'user-42', u: { id: 42 }, tenant_id: 2 });
  const cacheAndRuns = () => {
    const cache = createPlanCache<PreparedRequest>({ maxEntries: 50, enabled: true, model: deps.model });
    const runs: unknown[] = [];
    const run = (q: unknown) => {
      runs.push(q);
      return prepareRequest(q, deps, CTX);
    };
    return { cache, runs, prepare: (q: unknown) => cache.prepare(q, CTX, run) };
  };
  const filtered = (member: string, operator: string, values: unknown[]) => ({ measures: ['Orders.count'], filters: [{ member, operator, values }] });

  it('prepares a shape once on first sight, twice more when it comes back with new values, then re-binds them', async () => {
    const { cache, runs, prepare } = cacheAndRuns();
    await prepare(filtered('Orders.amount', 'gt', ['10']));
    expect(runs).toHaveLength(1);
    // The same text again is the exact memo's.
    await prepare(filtered('Orders.amount', 'gt', ['10']));
    expect(runs).toHaveLength(1);
    await prepare(filtered('Orders.amount', 'gt', ['20']));
    expect(runs).toHaveLength(3);
    const again = await prepare(filtered('Orders.amount', 'gt', ['250.5']));
    expect(runs).toHaveLength(3);
    expect(cache.stats()).toMatchObject({ seenOnce: 1, firstSights: 1, rebinds: 1, exactHits: 1, fixedShapes: 0 });
    expect(again).toStrictEqual(await prepareRequest(filtered('Orders.amount', 'gt', ['250.5']), deps, CTX));
    expect(again.queries[0]!.compiled.params).toContain('250.5');
  });

  it('re-binds every value of nested and/or filters, in query, cubeQuery, params and pivotQuery', async () => {
    const { runs, prepare } = cacheAndRuns();
    const q = (a: string, b: number, c: string) => ({
      measures: ['Orders.count'],
      dimensions: ['Orders.status'],
      filters: [{ or: [{ member: 'Orders.status', operator: 'in', values: [a, null] }, { and: [{ member: 'Orders.quantity', operator: 'gte', values: [b] }, { member: 'Users.city', operator: 'startsWith', values: [c] }] }] }],
      total: true,
    });
    await prepare(q('shipped', 1, 'Lon'));
    await prepare(q('completed', 2, 'Ber'));
    const got = await prepare(q('pending', 5, 'Mun'));
    expect(runs).toHaveLength(3);
    expect(got).toStrictEqual(await prepareRequest(q('pending', 5, 'Mun'), deps, CTX));
    expect(JSON.stringify(got.pivotQuery)).toContain('"pending"');
  });

  it('refuses a value a fresh prepare refuses, with the same error, once its shape is cached', async () => {
    const { cache, prepare } = cacheAndRuns();
    // Two good values prove the shape, so the bad one takes the re-bind path.
    const cases: [unknown, unknown, unknown][] = [
      [filtered('Orders.amount', 'gt', ['10']), filtered('Orders.amount', 'gt', ['11']), filtered('Orders.amount', 'gt', ['1x'])],
      [filtered('Orders.amount', 'gt', [10]), filtered('Orders.amount', 'gt', [11]), filtered('Orders.amount', 'gt', ['ten'])],
      [filtered('Orders.isShipped', 'equals', ['true']), filtered('Orders.isShipped', 'equals', ['false']), filtered('Orders.isShipped', 'equals', ['yes'])],
      [filtered('Orders.status', 'equals', ['a']), filtered('Orders.status', 'equals', ['b']), filtered('Orders.status', 'equals', ['a\u0000b'])],
      [filtered('Orders.count', 'lt', ['3']), filtered('Orders.count', 'lt', ['4']), filtered('Orders.count', 'contains', ['3'])],
    ];
    for (const [good, good2, bad] of cases) {
      await prepare(good);
      await prepare(good2);
      const fresh = await prepareRequest(bad, deps, CTX).catch((e: unknown) => e);
      expect(fresh).toMatchObject({ code: 'ERR_QUERY_INVALID' });
      await expect(prepare(bad)).rejects.toEqual(fresh);
    }
    expect(cache.stats().fixedShapes).toBe(0);
  });

  it('keeps LIKE values with wildcards out of re-binding (escaped, so not the value itself)', async () => {
    const { runs, prepare } = cacheAndRuns();
    await prepare(filtered('Orders.status', 'contains', ['comp']));
    const wild = await prepare(filtered('Orders.status', 'contains', ['50%']));
    // A wildcard value stays in the shape, so this is another shape's first sight.
    expect(runs).toHaveLength(2);
    expect(wild).toStrictEqual(await prepareRequest(filtered('Orders.status', 'contains', ['50%']), deps, CTX));
    expect(wild.queries[0]!.compiled.params).toContain('50\\%');
  });

  it('never re-binds a time member (its values are converted to UTC), but memoises the exact text', async () => {
    const { cache, runs, prepare } = cacheAndRuns();
    await prepare(filtered('Orders.createdAt', 'gt', ['2024-01-05T00:00:00.000Z']));
    const other = await prepare(filtered('Orders.createdAt', 'gt', ['2024-02-05T00:00:00.000Z']));
    expect(cache.stats().fixedShapes).toBe(1);
    expect(other).toStrictEqual(await prepareRequest(filtered('Orders.createdAt', 'gt', ['2024-02-05T00:00:00.000Z']), deps, CTX));
    await prepare(filtered('Orders.createdAt', 'gt', ['2024-02-05T00:00:00.000Z']));
    expect(runs).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ exactHits: 1, rebinds: 0 });
  });

  it('marks a shape fixed when its sentinels fail where the real value passed', async () => {
    const { cache, prepare } = cacheAndRuns();
    // '1' passes a boolean member; a numeric stand-in does not, so the shape is not proved.
    await prepare(filtered('Orders.isShipped', 'equals', ['1']));
    expect(await prepare(filtered('Orders.isShipped', 'equals', ['0']))).toStrictEqual(await prepareRequest(filtered('Orders.isShipped', 'equals', ['0']), deps, CTX));
    expect(cache.stats().fixedShapes).toBe(1);
    expect(await prepare(filtered('Orders.isShipped', 'equals', ['1']))).toStrictEqual(await prepareRequest(filtered('Orders.isShipped', 'equals', ['1']), deps, CTX));
  });

  it('marks a shape fixed when preparing maps a value and its sentinel to one output', async () => {
    // A preparation that lowercases values makes 'true' and its stand-in 'True' look alike, though 'false' differs.
    const lowered = (q: unknown) => JSON.parse(JSON.stringify(q), (key, v) => (key === 'values' && Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x.toLowerCase() : x)) : v));
    const cache = createPlanCache<PreparedRequest>({ maxEntries: 50, enabled: true, model: deps.model });
    const prepare = (q: unknown) => cache.prepare(q, CTX, (x) => prepareRequest(lowered(x), deps, CTX));
    await prepare(filtered('Orders.isShipped', 'equals', ['true']));
    await prepare(filtered('Orders.isShipped', 'equals', ['TRUE']));
    expect(cache.stats().fixedShapes).toBe(1);
    const other = await prepare(filtered('Orders.isShipped', 'equals', ['false']));
    expect(other.queries[0]!.compiled.params).toContain('false');
    expect(other.queries[0]!.compiled.params).not.toContain('true');
  });

  it('re-binds a blending query, pivotQuery included', async () => {
    const { runs, prepare } = cacheAndRuns();
    const grouped = { dimension: 'Orders.createdAt', granularity: 'month' };
    const q = (v: string) => [
      { measures: ['Orders.count'], timeDimensions: [grouped], filters: [{ member: 'Orders.status', operator: 'equals', values: [v] }] },
      { measures: ['Users.count'], timeDimensions: [grouped] },
    ];
    await prepare(q('shipped'));
    await prepare(q('completed'));
    const got = await prepare(q('pending'));
    expect(runs).toHaveLength(3);
    expect(got).toStrictEqual(await prepareRequest(q('pending'), deps, CTX));
  });
});
