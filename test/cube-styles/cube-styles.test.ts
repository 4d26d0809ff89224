/**
 * Models written the way Cube's documentation writes them (bare column names, snake_case keys,
 * extends, a view with includes/excludes/prefix/aliases, subQuery, cross-cube references, rolling
 * windows next to a hasMany join) answer like hand-written SQL over the same tables.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';
import { expectSameRows, rowsOf, type Row } from '../conformance/harness.js';
import { createFixture } from './fixture-data.js';

const MODEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
const TOKEN = signToken({ sub: 'analyst' });
/** Cube's local time text. */
const fmt = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;

let app: TestApp;
let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  await db.query(`SET TIME ZONE 'UTC'`);
  await createFixture(db);
  app = await createTestApp({ schemaPath: MODEL_DIR });
});
afterAll(async () => {
  await db?.end();
  await app?.close();
});

async function load(query: Record<string, unknown>): Promise<Row[]> {
  const res = await request(app.app).post('/cubejs-api/v1/load').set('Authorization', TOKEN).send({ query });
  expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(200);
  return rowsOf(res.body.data);
}

async function expectRows(query: Record<string, unknown>, sql: string, ordered = false): Promise<void> {
  const expected = (await db.query<Row>(sql)).rows;
  expect(expected.length, 'the hand-written SQL selects some rows').toBeGreaterThan(0);
  expectSameRows(await load(query), expected, ordered, JSON.stringify(query));
}

describe('bare column names', () => {
  it('selects, groups and counts a single cube whose members are bare columns', () =>
    expectRows(
      { measures: ['orders.count', 'orders.total_amount'], dimensions: ['orders.status'] },
      `SELECT status AS "orders.status", count(id) AS "orders.count", sum(amount) AS "orders.total_amount" FROM cube_styles.orders GROUP BY 1`,
    ));

  it('joins two cubes that both have an id column without ambiguity', () =>
    expectRows(
      { measures: ['orders.count'], dimensions: ['customers.city', 'customers.id'] },
      `SELECT c.city AS "customers.city", c.id AS "customers.id", count(o.id) AS "orders.count"
       FROM cube_styles.orders o LEFT JOIN cube_styles.customers c ON o.customer_id = c.id GROUP BY 1, 2`,
    ));

  it('filters and orders by bare columns of a joined cube', () =>
    expectRows(
      {
        measures: ['orders.total_amount'],
        dimensions: ['customers.name'],
        filters: [{ member: 'customers.city', operator: 'equals', values: ['Paris'] }, { member: 'orders.amount', operator: 'gt', values: ['20'] }],
        order: { 'customers.name': 'asc' },
      },
      `SELECT c.name AS "customers.name", sum(o.amount) AS "orders.total_amount"
       FROM cube_styles.orders o LEFT JOIN cube_styles.customers c ON o.customer_id = c.id
       WHERE c.city = 'Paris' AND o.amount > 20 GROUP BY 1 ORDER BY 1`,
      true,
    ));

  it('applies a bare boolean column segment', () =>
    expectRows(
      { measures: ['customers.count'], segments: ['customers.vip'] },
      `SELECT count(*) AS "customers.count" FROM cube_styles.customers WHERE is_vip`,
    ));

  it('aggregates the one side of a one-to-many join once per row (keys subquery over bare primary keys)', () =>
    expectRows(
      { measures: ['orders.total_amount', 'line_items.quantity', 'customers.count'], dimensions: ['customers.city'] },
      `WITH o AS (SELECT c.city, sum(o.amount) AS total, count(DISTINCT c.id) AS customers FROM cube_styles.orders o LEFT JOIN cube_styles.customers c ON o.customer_id = c.id GROUP BY 1),
            i AS (SELECT c.city, sum(li.qty) AS qty FROM cube_styles.orders o LEFT JOIN cube_styles.customers c ON o.customer_id = c.id LEFT JOIN cube_styles.line_items li ON li.order_id = o.id GROUP BY 1)
       SELECT o.city AS "customers.city", o.total AS "orders.total_amount", i.qty AS "line_items.quantity", o.customers AS "customers.count"
       FROM o JOIN i ON o.city IS NOT DISTINCT FROM i.city`,
    ));

  it('merges keyed subqueries with a hash join, matching NULL keys too', async () => {
    const query = { measures: ['orders.total_amount', 'line_items.quantity'], dimensions: ['orders.status', 'orders.created_at'] };
    const res = await request(app.app).post('/cubejs-api/v1/sql').set('Authorization', TOKEN).send({ query });
    expect(res.status).toBe(200);
    const [text, params] = res.body.sql.sql as [string, unknown[]];
    await db.query('BEGIN');
    try {
      // With nested loops priced out, only an equality join on hashable keys can avoid one.
      await db.query('SET LOCAL enable_nestloop = off');
      const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Hash Join|Merge Join/);
      expect(plan).not.toMatch(/Nested Loop/);
    } finally {
      await db.query('ROLLBACK');
    }
    await expectRows(
      query,
      `SELECT o.status AS "orders.status", ${fmt("o.created_at AT TIME ZONE 'UTC'")} AS "orders.created_at", sum(o.amount) AS "orders.total_amount",
              (SELECT sum(li.qty) FROM cube_styles.line_items li WHERE li.order_id = ANY (array_agg(o.id))) AS "line_items.quantity"
       FROM cube_styles.orders o GROUP BY 1, 2`,
    );
  });

  it('counts the multiplied cube by its bare primary key with a measure filter', () =>
    expectRows(
      { measures: ['orders.completed_count', 'line_items.count'], dimensions: ['line_items.product'] },
      `SELECT li.product AS "line_items.product", count(DISTINCT o.id) FILTER (WHERE o.status = 'completed') AS "orders.completed_count", count(li.id) AS "line_items.count"
       FROM cube_styles.orders o LEFT JOIN cube_styles.line_items li ON li.order_id = o.id GROUP BY 1`,
    ));

  it('reads the parent\u2019s bare columns through an extending cube\u2019s own source', () =>
    expectRows(
      { measures: ['big_orders.count', 'big_orders.average_amount', 'big_orders.total_amount'], dimensions: ['big_orders.status'] },
      `SELECT status AS "big_orders.status", count(*) AS "big_orders.count", avg(amount) AS "big_orders.average_amount", sum(amount) AS "big_orders.total_amount"
       FROM cube_styles.orders WHERE amount >= 100 GROUP BY 1`,
    ));

  it('computes a number measure over bare-column measures', () =>
    expectRows(
      { measures: ['orders.amount_per_order'], dimensions: ['orders.status'] },
      `SELECT status AS "orders.status", sum(amount) / NULLIF(count(id), 0) AS "orders.amount_per_order" FROM cube_styles.orders GROUP BY 1`,
    ));
});

describe('views over bare-column cubes', () => {
  it('answers view members with prefixes and aliases across a join path', () =>
    expectRows(
      { measures: ['sales.count', 'sales.total_amount'], dimensions: ['sales.customers_city', 'sales.status'] },
      `SELECT c.city AS "sales.customers_city", o.status AS "sales.status", count(o.id) AS "sales.count", sum(o.amount) AS "sales.total_amount"
       FROM cube_styles.orders o LEFT JOIN cube_styles.customers c ON o.customer_id = c.id GROUP BY 1, 2`,
    ));

  it('keys an aliased time dimension and a measure across the hasMany part of the view', () =>
    expectRows(
      { measures: ['sales.units', 'sales.total_amount'], timeDimensions: [{ dimension: 'sales.ordered_at', granularity: 'month' }] },
      `WITH o AS (SELECT date_trunc('month', created_at AT TIME ZONE 'UTC') AS m, sum(amount) AS total FROM cube_styles.orders GROUP BY 1),
            i AS (SELECT date_trunc('month', o.created_at AT TIME ZONE 'UTC') AS m, sum(li.qty) AS qty FROM cube_styles.orders o LEFT JOIN cube_styles.line_items li ON li.order_id = o.id GROUP BY 1)
       SELECT ${fmt('o.m')} AS "sales.ordered_at.month", i.qty AS "sales.units", o.total AS "sales.total_amount" FROM o JOIN i ON o.m = i.m`,
    ));

  it('does not expose excluded members', async () => {
    const res = await request(app.app).post('/cubejs-api/v1/load').set('Authorization', TOKEN).send({ query: { dimensions: ['sales.customers_lifetime_value'] } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('sales.customers_lifetime_value');
  });
});

describe('cross-cube references', () => {
  it('joins the referenced cube when only the referencing member is selected', () =>
    expectRows(
      { measures: ['orders.count'], dimensions: ['orders.customer_city'] },
      `SELECT c.city AS "orders.customer_city", count(o.id) AS "orders.count"
       FROM cube_styles.orders o LEFT JOIN cube_styles.customers c ON o.customer_id = c.id GROUP BY 1`,
    ));

  it('joins the referenced cube when the referencing member is only filtered on', () =>
    expectRows(
      { measures: ['orders.total_amount'], filters: [{ member: 'orders.customer_city', operator: 'equals', values: ['Berlin'] }] },
      `SELECT sum(o.amount) AS "orders.total_amount" FROM cube_styles.orders o LEFT JOIN cube_styles.customers c ON o.customer_id = c.id WHERE c.city = 'Berlin'`,
    ));
});

describe('subQuery dimensions', () => {
  it('aggregates the inner cube per outer row and groups by it', () =>
    expectRows(
      { measures: ['customers.count'], dimensions: ['customers.lifetime_value'] },
      `SELECT v AS "customers.lifetime_value", count(*) AS "customers.count"
       FROM (SELECT c.id, (SELECT sum(o.amount) FROM cube_styles.orders o WHERE o.customer_id = c.id) AS v FROM cube_styles.customers c) t GROUP BY 1`,
    ));
});

describe('rolling windows with a hasMany join', () => {
  it('sums a trailing window per day without fan-out from the joined items', () =>
    expectRows(
      {
        measures: ['orders.rolling_amount_7d'],
        timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-08', '2024-01-20'] }],
        filters: [{ member: 'line_items.product', operator: 'equals', values: ['pen', 'ink'] }],
      },
      `WITH s AS (SELECT d AS f, d + interval '1 day' - interval '1 millisecond' AS t FROM generate_series(timestamp '2024-01-08', timestamp '2024-01-20', interval '1 day') d),
            r AS (SELECT o.amount, o.created_at FROM cube_styles.orders o WHERE EXISTS (SELECT 1 FROM cube_styles.line_items li WHERE li.order_id = o.id AND li.product IN ('pen', 'ink')))
       SELECT ${fmt('s.f')} AS "orders.created_at.day", sum(r.amount) AS "orders.rolling_amount_7d"
       FROM s LEFT JOIN r ON r.created_at > (s.t - interval '7 day') AT TIME ZONE 'UTC' AND r.created_at <= s.t AT TIME ZONE 'UTC' GROUP BY s.f`,
    ));

  it('treats the whole dateRange as one window when there is no granularity', () =>
    expectRows(
      { measures: ['orders.rolling_amount_7d', 'orders.running_count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-01-01', '2024-01-21'] }] },
      `SELECT (SELECT sum(amount) FROM cube_styles.orders WHERE created_at > timestamp '2024-01-21 23:59:59.999' - interval '7 day' AND created_at <= timestamp '2024-01-21 23:59:59.999') AS "orders.rolling_amount_7d",
              (SELECT count(*) FROM cube_styles.orders WHERE created_at <= timestamp '2024-01-21 23:59:59.999') AS "orders.running_count"`,
    ));

  it('counts a running total per product once per order across the hasMany join', () =>
    expectRows(
      {
        measures: ['orders.running_count'],
        dimensions: ['line_items.product'],
        timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-04-30'] }],
      },
      `WITH s AS (SELECT d AS f, d + interval '1 month' - interval '1 millisecond' AS t FROM generate_series(timestamp '2024-01-01', timestamp '2024-04-30', interval '1 month') d),
            p AS (SELECT DISTINCT li.product FROM cube_styles.orders o LEFT JOIN cube_styles.line_items li ON li.order_id = o.id)
       SELECT ${fmt('s.f')} AS "orders.created_at.month", p.product AS "line_items.product",
              (SELECT count(DISTINCT o.id) FROM cube_styles.orders o LEFT JOIN cube_styles.line_items li ON li.order_id = o.id
                WHERE li.product IS NOT DISTINCT FROM p.product AND o.created_at <= s.t) AS "orders.running_count"
       FROM s CROSS JOIN p
       WHERE EXISTS (SELECT 1 FROM cube_styles.orders o LEFT JOIN cube_styles.line_items li ON li.order_id = o.id WHERE li.product IS NOT DISTINCT FROM p.product AND o.created_at <= s.t)`,
    ));

  it('looks forward from the start of each period with offset start', () =>
    expectRows(
      { measures: ['orders.next_7d_amount'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week', dateRange: ['2024-03-25', '2024-04-07'] }] },
      `SELECT ${fmt('s.f')} AS "orders.created_at.week", (SELECT sum(amount) FROM cube_styles.orders WHERE created_at >= s.f AND created_at < s.f + interval '7 day') AS "orders.next_7d_amount"
       FROM generate_series(timestamp '2024-03-25', timestamp '2024-04-07', interval '1 week') AS s(f)`,
    ));
});
