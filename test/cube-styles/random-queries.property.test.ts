/**
 * Property (fast-check): for random queries over the Cube-style model (bare columns, a hasMany
 * fan-out, a cross-cube reference), Tessera's rows equal those of an independently written
 * statement: the join root chosen by Cube's rule, every measure aggregated over its own cube's
 * distinct rows per dimension tuple.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';
import { expectSameRows, type Row } from '../conformance/harness.js';
import { createFixture } from './fixture-data.js';

const MODEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
const RUNS = Number(process.env.TESSERA_PROPERTY_RUNS ?? 60);
const TOKEN = signToken({ sub: 'property' });

type CubeName = 'orders' | 'line_items' | 'customers';
const KEY: Record<CubeName, string> = { orders: 'o.id', line_items: 'li.id', customers: 'c.id' };

/** Each measure by hand: its cube, the per-row value and how it aggregates. */
const MEASURES = {
  'orders.count': { cube: 'orders', value: 'o.id', agg: 'count' },
  'orders.total_amount': { cube: 'orders', value: 'o.amount', agg: 'sum' },
  'line_items.quantity': { cube: 'line_items', value: 'li.qty', agg: 'sum' },
  'customers.count': { cube: 'customers', value: 'c.id', agg: 'count' },
} as const;
/** Each dimension by hand: the cube it needs (a cross-cube reference needs customers) and its column. */
const DIMENSIONS = {
  'customers.city': { cube: 'customers', sql: 'c.city' },
  'orders.status': { cube: 'orders', sql: 'o.status' },
  'line_items.product': { cube: 'line_items', sql: 'li.product' },
  'orders.customer_city': { cube: 'customers', sql: 'c.city', owner: 'orders' },
} as const;
const FILTERS = {
  none: undefined,
  bigOrders: { wire: { member: 'orders.amount', operator: 'gt', values: ['40'] }, cube: 'orders', sql: 'o.amount > 40' },
  paris: { wire: { member: 'customers.city', operator: 'equals', values: ['Paris'] }, cube: 'customers', sql: `c.city = 'Paris'` },
  notPens: { wire: { member: 'line_items.product', operator: 'notEquals', values: ['pen'] }, cube: 'line_items', sql: `(li.product <> 'pen' OR li.product IS NULL)` },
} as const;

type MeasureName = keyof typeof MEASURES;
type DimensionName = keyof typeof DIMENSIONS;
type FilterName = keyof typeof FILTERS;

/** Joins each root needs to reach a cube (the model's directed joins, by hand). */
const PATHS: Record<CubeName, Partial<Record<CubeName, readonly string[]>>> = {
  orders: { orders: [], line_items: ['orders-line_items'], customers: ['orders-customers'] },
  line_items: { line_items: [], orders: ['line_items-orders'], customers: ['line_items-orders', 'orders-customers'] },
  customers: { customers: [] },
};
const FROM: Record<CubeName, string> = {
  orders: `cube_styles.orders o LEFT JOIN cube_styles.line_items li ON o.id = li.order_id LEFT JOIN cube_styles.customers c ON o.customer_id = c.id`,
  line_items: `cube_styles.line_items li LEFT JOIN cube_styles.orders o ON li.order_id = o.id LEFT JOIN cube_styles.customers c ON o.customer_id = c.id`,
  // Customers join nothing; the other aliases exist only so the wide row has its columns.
  customers: `cube_styles.customers c LEFT JOIN (SELECT NULL::int AS id, NULL::numeric AS amount, NULL::text AS status) o ON false LEFT JOIN (SELECT NULL::int AS id, NULL::int AS qty, NULL::text AS product) li ON false`,
};

/** Cube's JoinGraph.buildJoin: candidate roots in query order, the fewest joins wins, the first on a tie. */
function rootOf(cubes: readonly CubeName[]): CubeName | undefined {
  let best: { root: CubeName; joins: number } | undefined;
  for (const root of cubes) {
    const edges = new Set<string>();
    let reachable = true;
    for (const c of cubes) {
      const p = PATHS[root][c];
      if (!p) reachable = false;
      else p.forEach((e) => edges.add(e));
    }
    if (reachable && (!best || edges.size < best.joins)) best = { root, joins: edges.size };
  }
  return best?.root;
}

function expectedSql(measures: readonly MeasureName[], dimensions: readonly DimensionName[], filter: FilterName): string | undefined {
  const f = FILTERS[filter];
  const queryCubes: CubeName[] = [];
  const add = (c: CubeName) => {
    if (!queryCubes.includes(c)) queryCubes.push(c);
  };
  measures.forEach((m) => add(MEASURES[m].cube));
  dimensions.forEach((d) => add(('owner' in DIMENSIONS[d] ? (DIMENSIONS[d] as { owner: CubeName }).owner : DIMENSIONS[d].cube) as CubeName));
  if (f) add(f.cube as CubeName);
  // Cubes referenced by member SQL join after the query's own cubes.
  dimensions.forEach((d) => add(DIMENSIONS[d].cube as CubeName));
  const root = rootOf(queryCubes);
  if (!root) return undefined;
  const where = f ? `WHERE ${f.sql}` : '';
  const dims = dimensions.map((d, i) => `${DIMENSIONS[d].sql} AS d${i}`);
  const dimList = dimensions.map((_d, i) => `d${i}`);
  const wide = `SELECT ${[...dims, 'o.id AS o_id', 'o.amount AS o_amount', 'li.id AS li_id', 'li.qty AS li_qty', 'c.id AS c_id'].join(', ')} FROM ${FROM[root]} ${where}`;
  const on = (a: string, b: string) => (dimList.length > 0 ? dimList.map((d) => `${a}.${d} IS NOT DISTINCT FROM ${b}.${d}`).join(' AND ') : 'true');
  const parts = measures.map((m, i) => {
    const { cube, value, agg } = MEASURES[m];
    const key = KEY[cube as CubeName].replace('.', '_');
    const v = value.replace('.', '_');
    const distinct = `SELECT DISTINCT ${[...dimList, ...new Set([key, v])].join(', ')} FROM wide WHERE ${key} IS NOT NULL`;
    const aggregate = agg === 'count' ? `count(${v})` : `sum(${v})`;
    return { name: `m${i}`, sql: `SELECT ${[...dimList, `${aggregate} AS v`].join(', ')} FROM (${distinct}) x${dimList.length > 0 ? ` GROUP BY ${dimList.join(', ')}` : ''}`, count: agg === 'count', member: m };
  });
  const groups = dimList.length > 0 ? `SELECT DISTINCT ${dimList.join(', ')} FROM wide` : `SELECT 1 AS one`;
  const select = [
    ...dimensions.map((d, i) => `g.d${i} AS "${d}"`),
    ...parts.map((p) => `${p.count ? `COALESCE(${p.name}.v, 0)` : `${p.name}.v`} AS "${p.member}"`),
  ];
  const joins = parts.map((p) => `LEFT JOIN (${p.sql}) ${p.name} ON ${on('g', p.name)}`).join(' ');
  return `WITH wide AS (${wide}) SELECT ${select.join(', ')} FROM (${groups}) g ${joins}`;
}

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

const queries = fc.record({
  measures: fc.subarray(Object.keys(MEASURES) as MeasureName[]),
  dimensions: fc.subarray(Object.keys(DIMENSIONS) as DimensionName[]),
  filter: fc.constantFrom(...(Object.keys(FILTERS) as FilterName[])),
});

describe('random queries over a Cube-style model', () => {
  it('answer exactly what the hand-written statement answers', async () => {
    await fc.assert(
      fc.asyncProperty(queries, async ({ measures, dimensions, filter }) => {
        fc.pre(measures.length + dimensions.length > 0);
        const sql = expectedSql(measures, dimensions, filter);
        const f = FILTERS[filter];
        const query = { measures, dimensions, ...(f ? { filters: [f.wire] } : {}) };
        const res = await request(app.app).post('/cubejs-api/v1/load').set('Authorization', TOKEN).send({ query });
        if (sql === undefined) {
          expect(res.status, JSON.stringify(res.body)).toBe(400);
          expect(res.body.code).toBe('ERR_PLAN_NO_JOIN_PATH');
          return;
        }
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const expected = (await db.query<Row>(sql)).rows;
        expectSameRows(res.body.data as Row[], expected, false, JSON.stringify(query));
      }),
      { numRuns: RUNS },
    );
  });
});
