/**
 * A fast-check fuzzer over the whole query surface (/load, /sql, /dry-run, GET
 * and POST; valid and broken members, every operator, odd values, deep and wide
 * filters, dates, compare and blending, junk of every JSON type in every key),
 * for random demo users. Whatever comes in: no 5xx, every error is
 * `{error, code}` (plus `requestId` only on a 5xx), and no row names a user or
 * tenant outside the caller's context. Bounded runs in CI (TESSERA_FUZZ_RUNS).
 */
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILTER_OPERATORS, GRANULARITIES } from '../../src/query/validated-query.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { tenantOfUser, userToken } from '../support/tokens.js';

const RUNS = Number(process.env.TESSERA_FUZZ_RUNS ?? 150);

const DIMENSIONS = ['Orders.status', 'Orders.userId', 'Orders.amount', 'Orders.createdAt', 'Users.city', 'Users.tenantId', 'Users.id', 'Users.email',
  'Tenants.id', 'Tenants.name', 'Products.category', 'UserProfiles.tier', 'OrderItems.quantity', 'OrdersOverview.status'];
const MEASURES = ['Orders.count', 'Orders.totalAmount', 'Orders.avgAmount', 'Orders.uniqueUsers', 'Orders.completedRatio', 'Users.count', 'Tenants.count', 'Products.count', 'OrdersOverview.count'];
const TIME_DIMENSIONS = ['Orders.createdAt', 'Users.createdAt'];
const JUNK: unknown[] = [null, true, 0, -1, 1e308, '', ' ', 'Orders', 'Orders.', '.x', 'a.b.c.d', '__proto__', 'constructor', {}, [], [[]], { and: [] }, '\u0000', '💥', "'; drop table orders; --"];

/** Mostly real members, sometimes a near miss or junk. */
const member = (names: string[]) => fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...names) },
  { weight: 1, arbitrary: fc.constantFrom(...names).map((n) => `${n}x`) },
  { weight: 1, arbitrary: fc.constantFrom(...JUNK) },
);

const value = fc.oneof(
  fc.constantFrom('completed', 'shipped', 'pending', 'Berlin', 'gold', '42', '2', '1e99', '-0', '2024-01-01', 'last 7 days', 'today', '', '%', '_', '\\', "O'Brien"),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(...JUNK),
);

const dateRange = fc.oneof(
  fc.constantFrom('last week', 'this month', 'last 3 months', 'from 2024-01-01 to 2024-02-01', 'yesterday', 'not a date', '2024-13-45'),
  fc.tuple(fc.constantFrom('2024-01-01', '2023-06-15T10:00:00', 'garbage', ''), fc.constantFrom('2024-12-31', '2025-01-01T00:00:00.000', '1999')),
  fc.constantFrom(...JUNK),
);

const leaf = fc.record({
  member: member([...DIMENSIONS, ...MEASURES]),
  operator: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...FILTER_OPERATORS) }, { weight: 1, arbitrary: fc.constantFrom(...JUNK) }),
  values: fc.oneof({ weight: 8, arbitrary: fc.array(value, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(...JUNK) }),
}, { requiredKeys: ['member', 'operator'] });

const filter: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.record({ and: fc.array(tie('node'), { maxLength: 3 }) }), fc.record({ or: fc.array(tie('node'), { maxLength: 3 }) })),
})).node;

const query = fc.record({
  measures: fc.array(member(MEASURES), { maxLength: 3 }),
  dimensions: fc.array(fc.oneof(member(DIMENSIONS), fc.constantFrom('Orders.createdAt.month', 'Orders.createdAt.fortnight')), { maxLength: 3 }),
  filters: fc.array(filter, { maxLength: 3 }),
  timeDimensions: fc.array(fc.record({
    dimension: member(TIME_DIMENSIONS),
    granularity: fc.oneof(fc.constantFrom(...GRANULARITIES), fc.constantFrom(...JUNK)),
    dateRange,
    compareDateRange: fc.array(dateRange, { maxLength: 3 }),
  }, { requiredKeys: ['dimension'] }), { maxLength: 2 }),
  segments: fc.array(fc.constantFrom('Orders.completed', 'Users.nope', ...JUNK), { maxLength: 2 }),
  order: fc.oneof(fc.dictionary(member([...DIMENSIONS, ...MEASURES]) as fc.Arbitrary<string>, fc.constantFrom('asc', 'desc', 'sideways')), fc.constantFrom(...JUNK)),
  limit: fc.oneof(fc.integer({ min: -5, max: 60_000 }), fc.constantFrom(...JUNK)),
  offset: fc.oneof(fc.nat(1000), fc.constantFrom(...JUNK)),
  timezone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Mars/Olympus', ''),
  total: fc.oneof(fc.boolean(), fc.constantFrom(...JUNK)),
  ungrouped: fc.boolean(),
  responseFormat: fc.constantFrom('default', 'compact', 'columnar', 'xml'),
  junk: fc.constantFrom(...JUNK),
}, { requiredKeys: [] });

/** Queries a dashboard would send: real members, operators that fit them, good dates, small limits. */
const leafThatFits = fc.oneof(
  fc.record({ member: fc.constant('Orders.status'), operator: fc.constantFrom('equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'endsWith'), values: fc.array(fc.oneof(fc.constantFrom('completed', 'shipped', 'pend', 'x%', "O'B"), fc.constant(null)), { minLength: 1, maxLength: 3 }) }),
  fc.record({ member: fc.constantFrom('Orders.amount', 'Orders.userId', 'Users.tenantId'), operator: fc.constantFrom('gt', 'gte', 'lt', 'lte', 'equals', 'notEquals'), values: fc.array(fc.integer({ min: -10, max: 1000 }).map(String), { minLength: 1, maxLength: 2 }) }),
  fc.record({ member: fc.constantFrom('Orders.createdAt', 'Users.createdAt'), operator: fc.constantFrom('inDateRange', 'notInDateRange'), values: fc.constant(['2024-01-01', '2024-06-30']) }),
  fc.record({ member: fc.constantFrom('Orders.createdAt'), operator: fc.constantFrom('beforeDate', 'afterDate', 'onTheDate'), values: fc.constantFrom(['2024-03-01'], ['last year']) }),
  fc.record({ member: fc.constantFrom('Users.city', 'Products.category', 'Tenants.name', 'Orders.status'), operator: fc.constantFrom('set', 'notSet') }),
);
const filterThatFits: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leafThatFits, fc.record({ or: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }), fc.record({ and: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) })),
})).node;
const ORDER_DIMENSIONS = ['Orders.status', 'Orders.userId', 'Users.city', 'Users.tenantId', 'Users.id', 'Tenants.id', 'Tenants.name', 'Products.category'];
const ORDER_MEASURES = ['Orders.count', 'Orders.totalAmount', 'Orders.avgAmount', 'Orders.uniqueUsers', 'Users.count', 'Tenants.count'];
const queryThatFits = fc.record({
  measures: fc.subarray(ORDER_MEASURES, { minLength: 1, maxLength: 2 }),
  dimensions: fc.subarray(ORDER_DIMENSIONS, { maxLength: 2 }),
  filters: fc.array(filterThatFits, { maxLength: 2 }),
  timeDimensions: fc.array(fc.record({
    dimension: fc.constant('Orders.createdAt'),
    granularity: fc.constantFrom(...GRANULARITIES),
    dateRange: fc.constantFrom(['2024-01-01', '2024-03-31'], 'last year', 'from 2023-01-01 to 2023-12-31'),
  }, { requiredKeys: ['dimension'] }), { maxLength: 1 }),
  limit: fc.integer({ min: 1, max: 200 }),
  total: fc.boolean(),
  timezone: fc.constantFrom('UTC', 'Asia/Kolkata', 'America/New_York'),
}, { requiredKeys: ['measures'] });

const payload = fc.oneof(
  { weight: 8, arbitrary: queryThatFits },
  { weight: 6, arbitrary: query },
  { weight: 1, arbitrary: fc.array(query, { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...JUNK), fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 4 })) },
);

const call = fc.record({
  user: fc.integer({ min: 1, max: 1000 }),
  path: fc.constantFrom('load', 'load', 'load', 'sql', 'dry-run'),
  method: fc.constantFrom('GET', 'POST'),
  asString: fc.boolean(),
  multi: fc.boolean(),
  payload,
});

/** The ids of users and tenants a row names, by the member keys that carry them. */
function foreignIds(row: Record<string, unknown>, user: number): string[] {
  const wrong: string[] = [];
  const tenant = tenantOfUser(user);
  for (const [key, v] of Object.entries(row)) {
    if (v === null || v === undefined) continue;
    if ((key === 'Orders.userId' || key === 'Users.id') && Number(v) !== user) wrong.push(`${key}=${String(v)}`);
    if ((key === 'Users.tenantId' || key === 'Tenants.id') && Number(v) !== tenant) wrong.push(`${key}=${String(v)}`);
  }
  return wrong;
}

function rowsOf(body: Record<string, unknown>): Record<string, unknown>[] {
  const results = Array.isArray(body.results) ? (body.results as Record<string, unknown>[]) : [body];
  return results.flatMap((r) => (Array.isArray(r.data) ? (r.data as Record<string, unknown>[]).filter((x) => typeof x === 'object' && x !== null && !Array.isArray(x)) : []));
}

describe('fuzzing the query surface', () => {
  // How many answers of each status and code, printed so a run that only produced 400s is visible.
  const seen = new Map<string, number>();
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    console.log(`fuzz answers: ${[...seen].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    await t.close();
  });

  it('never answers 5xx, always answers errors as {error, code}, and never returns a row outside the context', async () => {
    await fc.assert(
      fc.asyncProperty(call, async ({ user, path, method, asString, multi, payload: body }) => {
        const url = `/cubejs-api/v1/${path}`;
        const token = userToken(user);
        const queryParam = asString || method === 'GET' ? JSON.stringify(body) ?? 'null' : body;
        const res = method === 'GET'
          ? await request(t.app).get(url).query({ query: queryParam as string, ...(multi ? { queryType: 'multi' } : {}) }).set('Authorization', token)
          : await request(t.app).post(url).set('Authorization', token).send({ query: queryParam, ...(multi ? { queryType: 'multi' } : {}) });
        const kind = `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
        expect(res.status, `${method} ${url} ${JSON.stringify(body)?.slice(0, 500)} → ${res.text.slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(typeof res.body.error).toBe('string');
          expect(res.body.code).toMatch(/^ERR_[A-Z_]+$/);
          expect(Object.keys(res.body).sort()).toEqual(['code', 'error']);
          expect(res.text).not.toMatch(/SELECT |relation "|stack|at \//);
          return;
        }
        if (path === 'load') {
          for (const row of rowsOf(res.body as Record<string, unknown>)) expect(foreignIds(row, user)).toEqual([]);
        }
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 90_000 },
    );
  }, 120_000);
});
