/**
 * A cube's securityFilters (set by the policy stage) apply wherever the cube's rows are read:
 * the middle cube of a three-cube join, a subQuery dimension's inner select, keys subqueries and
 * rolling windows. The policy hook here sets them directly; rows come from hand-written SQL.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/auth/auth-result.js';
import type { FilterNode, ReadSet, ValidatedQuery } from '../../src/query/validated-query.js';
import { executeRequest, prepareRequest, type PipelineDeps } from '../../src/server/query-pipeline.js';
import { expectSameRows, type Row } from '../conformance/harness.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { createFixture } from './fixture-data.js';

const MODEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
const AUTH: AuthResult = { via: 'dev', rawContext: {}, securityContext: {}, scopes: ['query', 'meta'] };
/** Only completed orders are visible; only customers outside Berlin. */
const ROW_RULES: Record<string, readonly FilterNode[]> = {
  orders: [{ kind: 'leaf', member: 'orders.status', operator: 'equals', values: ['completed'] }],
  customers: [{ kind: 'leaf', member: 'customers.city', operator: 'notEquals', values: ['Berlin'] }],
};

let app: TestApp;
let db: pg.Client;
const seen: ReadSet[] = [];

function pipeline(rules: Record<string, readonly FilterNode[]>): PipelineDeps {
  return {
    config: app.config,
    model: app.deps.model,
    db: app.deps.db,
    policies: {
      // The policy stage's contract: filters for every cube the ReadSet names that has a rule.
      restrict: async (query: ValidatedQuery, _auth: AuthResult, read?: ReadSet) => {
        if (read) seen.push(read);
        const securityFilters = Object.fromEntries(Object.entries(rules).filter(([cube]) => read?.cubes.includes(cube)));
        return Object.freeze({ ...query, securityFilters });
      },
    },
  };
}

async function run(query: Record<string, unknown>, rules = ROW_RULES): Promise<{ rows: Row[]; sql: string; read: ReadSet | undefined }> {
  seen.length = 0;
  const deps = pipeline(rules);
  const prepared = await prepareRequest(query, deps, AUTH);
  const [result] = await executeRequest(prepared, deps, AUTH);
  return { rows: (result as { data: Row[] }).data, sql: prepared.queries[0]?.compiled.sql ?? '', read: seen[0] };
}

async function expectRows(query: Record<string, unknown>, sql: string): Promise<{ sql: string; read: ReadSet | undefined }> {
  const expected = (await db.query<Row>(sql)).rows;
  expect(expected.length, 'the hand-written SQL selects some rows').toBeGreaterThan(0);
  const got = await run(query);
  expectSameRows(got.rows, expected, false, JSON.stringify(query));
  return got;
}

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

describe('security filters follow the data', () => {
  it('filters the middle cube of a three-cube join that the query never names', async () => {
    const { read } = await expectRows(
      { measures: ['line_items.quantity'], dimensions: ['customers.city'] },
      // Items of hidden orders keep their own rows, but nothing of the hidden order or its customer reaches them.
      `SELECT c.city AS "customers.city", sum(li.qty) AS "line_items.quantity"
       FROM cube_styles.line_items li
       LEFT JOIN (SELECT * FROM cube_styles.orders WHERE status = 'completed') o ON li.order_id = o.id
       LEFT JOIN (SELECT * FROM cube_styles.customers WHERE city IS DISTINCT FROM 'Berlin') c ON o.customer_id = c.id GROUP BY 1`,
    );
    expect(read?.cubes).toEqual(expect.arrayContaining(['orders', 'customers', 'line_items']));
  });

  it('filters the inner cube of a subQuery dimension', async () => {
    const { read } = await expectRows(
      { dimensions: ['customers.name', 'customers.lifetime_value'] },
      `SELECT c.name AS "customers.name", (SELECT sum(o.amount) FROM cube_styles.orders o WHERE o.customer_id = c.id AND o.status = 'completed') AS "customers.lifetime_value"
       FROM cube_styles.customers c WHERE c.city IS DISTINCT FROM 'Berlin'`,
    );
    expect(read?.cubes).toEqual(expect.arrayContaining(['customers', 'orders']));
  });

  it('filters a cube joined only through a cross-cube reference', async () => {
    const { read } = await expectRows(
      { measures: ['orders.count'], dimensions: ['orders.customer_city'] },
      `SELECT c.city AS "orders.customer_city", count(*) AS "orders.count"
       FROM (SELECT * FROM cube_styles.orders WHERE status = 'completed') o
       LEFT JOIN (SELECT * FROM cube_styles.customers WHERE city IS DISTINCT FROM 'Berlin') c ON o.customer_id = c.id GROUP BY 1`,
    );
    expect(read?.cubes).toEqual(expect.arrayContaining(['orders', 'customers']));
  });

  it('filters both sides of a fan-out keys subquery', () =>
    expectRows(
      { measures: ['orders.total_amount', 'line_items.count'], dimensions: ['orders.status'] },
      `SELECT 'completed' AS "orders.status", (SELECT sum(amount) FROM cube_styles.orders WHERE status = 'completed') AS "orders.total_amount",
              (SELECT count(li.id) FROM cube_styles.orders o LEFT JOIN cube_styles.line_items li ON li.order_id = o.id WHERE o.status = 'completed') AS "line_items.count"`,
    ));

  it('filters the rows a rolling window reads', () =>
    expectRows(
      { measures: ['orders.running_count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-04-30'] }] },
      `SELECT to_char(f, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS "orders.created_at.month",
              (SELECT count(*) FROM cube_styles.orders WHERE status = 'completed' AND created_at < f + interval '1 month') AS "orders.running_count"
       FROM generate_series(timestamp '2024-01-01', timestamp '2024-04-01', interval '1 month') f`,
    ));

  it('names the views the caller used in the ReadSet, beside the cubes behind them', async () => {
    const { read } = await expectRows(
      { measures: ['sales.count'], dimensions: ['sales.customers_city'] },
      `SELECT c.city AS "sales.customers_city", count(*) AS "sales.count"
       FROM (SELECT * FROM cube_styles.orders WHERE status = 'completed') o
       LEFT JOIN (SELECT * FROM cube_styles.customers WHERE city IS DISTINCT FROM 'Berlin') c ON o.customer_id = c.id GROUP BY 1`,
    );
    expect(read).toEqual({ cubes: expect.arrayContaining(['orders', 'customers']), views: ['sales'] });
  });

  it('rejects a security filter that reads another cube instead of dropping it', async () => {
    const rules = { orders: [{ kind: 'leaf', member: 'customers.city', operator: 'equals', values: ['Paris'] }] as FilterNode[] };
    await expect(run({ measures: ['orders.count'] }, rules)).rejects.toMatchObject({ code: 'ERR_PLAN_UNSUPPORTED' });
  });
});
