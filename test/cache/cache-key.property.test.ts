/**
 * The cache-key property (fast-check): two statements share an entry only when their SQL, every
 * bound value, their session settings, data source, model version and refresh state are equal.
 * Equality is judged by node's deep strict equality, not by the key's own encoder; and over the
 * real compiler (Tessera's /sql), two security contexts that differ in any value the model reads
 * never share a key, while contexts that compile to the same statement do.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultCacheKey, type ResultKeyParts } from '../../src/cache/cache-key.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const RUNS = Number(process.env.TESSERA_PROPERTY_RUNS ?? 200);

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('1', '2', '', ' 1', "' OR 1=1 --", '{"a":1}'),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(0, -0, 0.5, Number.NaN, 1e21),
  fc.constantFrom(new Date(0), new Date(1), new Date(Number.NaN)),
  fc.bigInt({ min: -2n, max: 2n }),
);
const param = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b'), scalar, { maxKeys: 2, noNullPrototype: true }));
const settings = fc.option(
  fc.record(
    { role: fc.constantFrom('reader', 'tenant_2', undefined), claims: fc.constantFrom('{"tenant_id":2}', '{"tenant_id":3}', undefined) },
    { requiredKeys: [], noNullPrototype: true },
  ),
  { nil: undefined },
);
const parts: fc.Arbitrary<ResultKeyParts> = fc.record(
  {
  sql: fc.constantFrom('SELECT $1', 'SELECT $1 ', 'SELECT $1, $2'),
  params: fc.array(param, { maxLength: 3 }),
  settings,
  dataSource: fc.constantFrom('default', 'warehouse'),
  modelVersion: fc.constantFrom('', 'v1', 'v2'),
  refreshState: fc.constantFrom('Orders:e10000:1', 'Orders:e10000:2', 'Orders:s:[["d1"]]'),
  },
  { noNullPrototype: true },
);

describe('the result cache key', () => {
  it('is equal exactly when every part is deeply equal (values keep their type)', () => {
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        expect(resultCacheKey(a) === resultCacheKey(b)).toBe(isDeepStrictEqual(a, b));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('changes when any single part changes', () => {
    fc.assert(
      fc.property(parts, parts, fc.constantFrom<keyof ResultKeyParts>('sql', 'params', 'settings', 'dataSource', 'modelVersion', 'refreshState'), (a, b, field) => {
        const changed = { ...a, [field]: b[field] };
        fc.pre(!isDeepStrictEqual(a[field], b[field]));
        expect(resultCacheKey(changed)).not.toBe(resultCacheKey(a));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('refuses a value that cannot be bound rather than sharing an entry', () => {
    expect(() => resultCacheKey({ sql: 'SELECT $1', params: [() => 1], dataSource: 'default', modelVersion: '', refreshState: '' })).toThrow(TypeError);
  });
});

describe('the result cache key over the real compiler', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const QUERIES = [
    { measures: ['Orders.count'], dimensions: ['Orders.status'] },
    { measures: ['OrderItems.revenue', 'Orders.count'], dimensions: ['Products.category'] },
    { measures: ['Users.count'], dimensions: ['Users.city'], filters: [{ member: 'Users.city', operator: 'set' }] },
    { measures: ['OrdersOverview.count'], dimensions: ['OrdersOverview.status'] },
  ];
  const securityValue = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom('1', '2', ' 2', "2' OR '1'='1"));
  const context = fc.record({
    tenant_id: securityValue,
    u: fc.option(fc.record({ id: securityValue }), { nil: undefined }),
    // A claim the model never reads: contexts that differ only here may share an entry.
    note: fc.constantFrom('a', 'b'),
  });

  async function keyFor(query: object, ctx: object): Promise<string> {
    const res = await request(t.app)
      .get('/cubejs-api/v1/sql')
      .query({ query: JSON.stringify(query) })
      .set('Authorization', signToken({ sub: 'prop', ...ctx }));
    expect(res.status).toBe(200);
    const [sql, params] = res.body.sql.sql as [string, unknown[]];
    return resultCacheKey({ sql, params, dataSource: 'default', modelVersion: '', refreshState: '' });
  }

  it('gives contexts that differ in any security value different keys, and equal ones the same key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...QUERIES), context, context, async (query, a, b) => {
        const [ka, kb] = await Promise.all([keyFor(query, a), keyFor(query, b)]);
        const sameSecurity = isDeepStrictEqual([a.tenant_id, a.u?.id], [b.tenant_id, b.u?.id]);
        expect(ka === kb).toBe(sameSecurity);
      }),
      { numRuns: Math.min(RUNS, 150) },
    );
  });
});
