/**
 * Cube's exact semantics for dates, time keys, /meta and /dry-run, checked over the Cube-style
 * model against hand-written SQL (rows) and against the rules read from Cube's source.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';
import { expectSameRows, type Row } from '../conformance/harness.js';
import { createFixture } from './fixture-data.js';

const MODEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
const TOKEN = signToken({ sub: 'analyst' });
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

async function post(route: string, query: unknown) {
  return request(app.app).post(`/cubejs-api/v1/${route}`).set('Authorization', TOKEN).send({ query });
}

async function expectIds(filters: unknown[], where: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await post('load', { dimensions: ['orders.id'], filters, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const expected = (await db.query<Row>(`SELECT id AS "orders.id" FROM cube_styles.orders WHERE ${where}`)).rows;
  expect(expected.length, 'the hand-written SQL selects some rows').toBeGreaterThan(0);
  expectSameRows(res.body.data, expected, false, JSON.stringify(filters));
}

const f = (operator: string, values: string[]) => ({ member: 'orders.created_at', operator, values });

describe('date boundaries as in Cube', () => {
  it('reads afterDate with a date as after that day\u2019s start, so later hours of the day match', () =>
    expectIds([f('afterDate', ['2024-01-20'])], `created_at > '2024-01-20T00:00:00Z'`));

  it('reads beforeOrOnDate with a date as up to that day\u2019s start', () =>
    expectIds([f('beforeOrOnDate', ['2024-04-02'])], `created_at <= '2024-04-02T00:00:00Z'`));

  it('reads beforeDate and afterOrOnDate with a date-time exactly', async () => {
    await expectIds([f('beforeDate', ['2024-02-15 08:00:00'])], `created_at < '2024-02-15T08:00:00Z'`);
    await expectIds([f('afterOrOnDate', ['2024-02-15T08:00:00.000'])], `created_at >= '2024-02-15T08:00:00Z'`);
  });

  it('takes a date-time range end as the exact instant and a date end as the end of its day', async () => {
    await expectIds([f('inDateRange', ['2024-01-20 10:00:00', '2024-02-15 08:00:00'])], `created_at BETWEEN '2024-01-20T10:00:00Z' AND '2024-02-15T08:00:00Z'`);
    await expectIds([f('inDateRange', ['2024-01-20', '2024-02-15'])], `created_at BETWEEN '2024-01-20T00:00:00Z' AND '2024-02-15T23:59:59.999Z'`);
    await expectIds([f('notInDateRange', ['2024-01-20', '2024-03-31'])], `NOT (created_at BETWEEN '2024-01-20T00:00:00Z' AND '2024-03-31T23:59:59.999Z')`);
  });

  it('reads filter values with an offset as instants, whatever the query timezone', () =>
    expectIds([f('inDateRange', ['2024-01-10T10:00:00Z', '2024-01-20T23:30:00+00:00'])], `created_at BETWEEN '2024-01-10T10:00:00Z' AND '2024-01-20T23:30:00Z'`, { timezone: 'Europe/Berlin' }));

  it('accepts a dateRange written with a space between date and time', async () => {
    const query = { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-01-20 10:00:00', '2024-02-15 08:00:00'] }] };
    const res = await post('load', query);
    expect(res.status).toBe(200);
    const { rows } = await db.query(`SELECT count(*) AS n FROM cube_styles.orders WHERE created_at BETWEEN '2024-01-20T10:00:00Z' AND '2024-02-15T08:00:00Z'`);
    expect(Number(res.body.data[0]['orders.count'])).toBe(Number(rows[0].n));
    expect(res.body.query.timeDimensions[0].dateRange).toEqual(['2024-01-20T10:00:00.000', '2024-02-15T08:00:00.000']);
  });

  it('rejects a date it cannot read with a 400 that names it', async () => {
    const res = await post('load', { measures: ['orders.count'], filters: [f('afterDate', ['20-01-2024'])] });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('20-01-2024');
  });
});

describe('time keys as in Cube', () => {
  it('keys two granularities of one time dimension and gives the plain key the last one', async () => {
    const res = await post('load', { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month' }], dimensions: ['orders.created_at.day'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expected = (await db.query<Row>(
      `SELECT ${fmt("date_trunc('month', created_at AT TIME ZONE 'UTC')")} AS "orders.created_at.month", ${fmt("date_trunc('day', created_at AT TIME ZONE 'UTC')")} AS "orders.created_at.day",
              ${fmt("date_trunc('day', created_at AT TIME ZONE 'UTC')")} AS "orders.created_at", count(*) AS "orders.count" FROM cube_styles.orders GROUP BY 1, 2`,
    )).rows;
    expectSameRows(res.body.data, expected, false, 'two granularities');
    expect(res.body.query.timeDimensions.map((t: { granularity: string }) => t.granularity)).toEqual(['month', 'day']);
  });

  it('keeps a raw time dimension in dimensions as local time beside its grouped key', async () => {
    const res = await post('load', { dimensions: ['orders.created_at'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'year' }], timezone: 'America/New_York' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expected = (await db.query<Row>(
      `SELECT DISTINCT ${fmt("created_at AT TIME ZONE 'America/New_York'")} AS "orders.created_at", ${fmt("date_trunc('year', created_at AT TIME ZONE 'America/New_York')")} AS "orders.created_at.year" FROM cube_styles.orders`,
    )).rows;
    expectSameRows(res.body.data, expected, false, 'raw and grouped');
  });

  it('lists only the selected columns in the compact format', async () => {
    const res = await post('load', { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month' }], responseFormat: 'compact' });
    expect(res.status).toBe(200);
    expect(res.body.data.members).toEqual(['orders.created_at.month', 'orders.count']);
  });
});

describe('/meta and /dry-run as in Cube', () => {
  it('marks every rolling window measure cumulative and cumulativeTotal', async () => {
    const res = await request(app.app).get('/cubejs-api/v1/meta').set('Authorization', TOKEN);
    expect(res.status).toBe(200);
    const orders = res.body.cubes.find((c: { name: string }) => c.name === 'orders');
    const byName = (n: string) => orders.measures.find((m: { name: string }) => m.name === n);
    expect(byName('orders.rolling_amount_7d')).toMatchObject({ cumulative: true, cumulativeTotal: true });
    expect(byName('orders.running_count')).toMatchObject({ cumulative: true, cumulativeTotal: true });
    expect(byName('orders.count')).toMatchObject({ cumulative: false, cumulativeTotal: false });
    expect(orders.dimensions.find((d: { name: string }) => d.name === 'orders.status').primaryKey).toBe(false);
  });

  it('numbers join components as Cube\u2019s JoinGraph does and gives views none', async () => {
    const res = await request(app.app).get('/cubejs-api/v1/meta').set('Authorization', TOKEN);
    const component = Object.fromEntries(res.body.cubes.map((c: { name: string; connectedComponent?: number }) => [c.name, c.connectedComponent]));
    expect(component.orders).toBeDefined();
    expect(component.customers).toBe(component.orders);
    expect(component.line_items).toBe(component.orders);
    expect(component.sales).toBeUndefined();
    const sales = res.body.cubes.find((c: { name: string }) => c.name === 'sales');
    expect(sales.type).toBe('view');
    expect(sales.measures.find((m: { name: string }) => m.name === 'sales.count').aliasMember).toBe('orders.count');
    expect(sales.dimensions.find((d: { name: string }) => d.name === 'sales.ordered_at').aliasMember).toBe('orders.created_at');
  });

  it('answers /dry-run with the query type and normalized queries in Cube\u2019s member order', async () => {
    const res = await post('dry-run', { measures: ['orders.count'], dimensions: ['orders.status', 'orders.created_at.day'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-01-31'] }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.queryType).toBe('regularQuery');
    const [q] = res.body.normalizedQueries;
    expect(q.dimensions).toEqual(['orders.status']);
    expect(q.timeDimensions).toEqual([
      { dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999'] },
      { dimension: 'orders.created_at', granularity: 'day' },
    ]);
    expect(res.body.queryOrder).toEqual([{ 'orders.created_at.month': 'asc' }]);
  });
});
