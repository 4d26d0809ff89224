/**
 * Queries at a time dimension's custom granularities (timeDimensions and `Cube.time.<name>` dimensions),
 * over a YAML snake_case model with bare columns; rows compared with hand-written SQL on the same table.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOM_GRANULARITY_DDL } from '../fixtures/models/custom-granularity-query/data.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models', 'custom-granularity-query', 'model');
const TOKEN = signToken({ sub: 'analyst' });
const fmt = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
type Row = Record<string, unknown>;

let app: TestApp;
let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  await db.query(CUSTOM_GRANULARITY_DDL);
  app = await createTestApp({ schemaPath: MODEL_DIR });
});
afterAll(async () => {
  await db?.query('DROP SCHEMA IF EXISTS cg_custom_gran CASCADE');
  await db?.end();
  await app?.close();
});

const post = (route: string, query: unknown, extra: Record<string, unknown> = {}) =>
  request(app.app).post(`/cubejs-api/v1/${route}`).set('Authorization', TOKEN).send({ query, ...extra });

async function load(query: unknown): Promise<{ data: Row[]; body: Record<string, unknown> }> {
  const res = await post('load', query);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { data: res.body.data as Row[], body: res.body as Record<string, unknown> };
}

async function expected(sql: string, params: unknown[] = []): Promise<Row[]> {
  return (await db.query<Row>(sql, params)).rows;
}

describe('queries at a custom granularity', () => {
  it('groups a timeDimensions query by an April fiscal year (1 year offset 3 months) inside its dateRange', async () => {
    const { data, body } = await load({
      measures: ['orders.count', 'orders.amount'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fiscal_year', dateRange: ['2024-01-01', '2024-12-31'] }],
    });
    const rows = await expected(`
      SELECT ${fmt(`date_trunc('year', (created_at AT TIME ZONE 'UTC') - interval '3 months') + interval '3 months'`)} AS "fy",
             count(*)::text AS "count", sum(amount)::text AS "amount"
      FROM cg_custom_gran.orders
      WHERE created_at >= '2024-01-01T00:00:00Z' AND created_at <= '2024-12-31T23:59:59.999Z'
      GROUP BY 1 ORDER BY 1`);
    expect(rows.map((r) => r.fy)).toEqual(['2023-04-01T00:00:00.000', '2024-04-01T00:00:00.000']);
    expect(data).toEqual(rows.map((r) => ({
      'orders.created_at.fiscal_year': r.fy,
      'orders.created_at': r.fy,
      'orders.count': r.count,
      'orders.amount': r.amount,
    })));
    const annotation = (body.annotation as { timeDimensions: Record<string, { granularity: unknown }> }).timeDimensions;
    expect(annotation['orders.created_at.fiscal_year']?.granularity).toEqual({
      name: 'fiscal_year', title: 'Fiscal year starting in April', interval: '1 year', offset: '3 months',
    });
  });

  it('bins `dimensions: [orders.created_at.fortnight]` every 2 weeks from its origin', async () => {
    const { data } = await load({ measures: ['orders.count'], dimensions: ['orders.created_at.fortnight'], order: { 'orders.created_at.fortnight': 'asc' } });
    const rows = await expected(`
      SELECT ${fmt(`'2024-01-03'::timestamp + interval '2 weeks' * floor(extract(epoch from (created_at AT TIME ZONE 'UTC') - '2024-01-03'::timestamp) / (14 * 86400))`)} AS "f",
             count(*)::text AS "count"
      FROM cg_custom_gran.orders GROUP BY 1 ORDER BY 1`);
    expect(rows.map((r) => r.f)).toContain('2023-12-20T00:00:00.000');
    expect(data).toEqual(rows.map((r) => ({ 'orders.created_at.fortnight': r.f, 'orders.created_at': r.f, 'orders.count': r.count })));
  });

  it('reads the row times in the query timezone before bucketing them', async () => {
    const zone = 'America/New_York';
    const { data } = await load({
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fiscal_year' }],
      order: { 'orders.created_at.fiscal_year': 'asc' },
      timezone: zone,
    });
    const rows = await expected(`
      SELECT ${fmt(`date_trunc('year', (created_at AT TIME ZONE $1) - interval '3 months') + interval '3 months'`)} AS "fy", count(*)::text AS "count"
      FROM cg_custom_gran.orders GROUP BY 1 ORDER BY 1`, [zone]);
    // Order 4 (2024-04-01 02:00 UTC) is still March 31 in New York, so it falls in the earlier fiscal year.
    expect(rows).toEqual([{ fy: '2023-04-01T00:00:00.000', count: '5' }, { fy: '2024-04-01T00:00:00.000', count: '4' }]);
    expect(data.map((r) => [r['orders.created_at.fiscal_year'], r['orders.count']])).toEqual(rows.map((r) => [r.fy, r.count]));
  });

  it('bins a 6-month interval without origin from the start of the current year, as Cube does', async () => {
    const { data } = await load({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'half_year' }], order: { 'orders.created_at.half_year': 'asc' } });
    const origin = `date_trunc('year', now() AT TIME ZONE 'UTC')`;
    const rows = await expected(`
      SELECT ${fmt(`${origin} + interval '6 months' * floor(extract(epoch from (created_at AT TIME ZONE 'UTC') - ${origin}) / extract(epoch from interval '6 months'))`)} AS "h",
             count(*)::text AS "count"
      FROM cg_custom_gran.orders GROUP BY 1 ORDER BY 1`);
    expect(data.map((r) => [r['orders.created_at.half_year'], r['orders.count']])).toEqual(rows.map((r) => [r.h, r.count]));
  });

  it('compares two date ranges at a custom granularity, each row marked with its range', async () => {
    const res = await post('load', {
      measures: ['orders.amount'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fiscal_year', compareDateRange: [['2024-01-01', '2024-06-30'], ['2024-07-01', '2025-06-30']] }],
    }, { queryType: 'multi' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const results = res.body.results as { data: Row[] }[];
    const range = async (from: string, to: string) => expected(`
      SELECT ${fmt(`date_trunc('year', (created_at AT TIME ZONE 'UTC') - interval '3 months') + interval '3 months'`)} AS "fy", sum(amount)::text AS "amount"
      FROM cg_custom_gran.orders WHERE created_at >= $1::timestamptz AND created_at <= $2::timestamptz GROUP BY 1 ORDER BY 1`, [from, to]);
    const first = await range('2024-01-01T00:00:00Z', '2024-06-30T23:59:59.999Z');
    const second = await range('2024-07-01T00:00:00Z', '2025-06-30T23:59:59.999Z');
    expect(results).toHaveLength(2);
    expect(results[0]?.data.map((r) => [r['orders.created_at.fiscal_year'], r['orders.amount'], r.compareDateRange])).toEqual(
      first.map((r) => [r.fy, r.amount, '2024-01-01T00:00:00.000 - 2024-06-30T23:59:59.999']),
    );
    expect(results[1]?.data.map((r) => [r['orders.created_at.fiscal_year'], r['orders.amount']])).toEqual(second.map((r) => [r.fy, r.amount]));
  });

  it('keeps the custom granularities of a time dimension a view exposes under an alias', async () => {
    const { data } = await load({ measures: ['sales.count'], dimensions: ['sales.ordered_at.fiscal_year'], order: { 'sales.ordered_at.fiscal_year': 'asc' } });
    const rows = await expected(`
      SELECT ${fmt(`date_trunc('year', (created_at AT TIME ZONE 'UTC') - interval '3 months') + interval '3 months'`)} AS "fy", count(*)::text AS "count"
      FROM cg_custom_gran.orders GROUP BY 1 ORDER BY 1`);
    expect(data).toEqual(rows.map((r) => ({ 'sales.ordered_at.fiscal_year': r.fy, 'sales.ordered_at': r.fy, 'sales.count': r.count })));
  });

  it('refuses a granularity the dimension does not define, naming it, in timeDimensions and in dimensions', async () => {
    const td = await post('load', { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fiscal_quarter' }] });
    expect(td.status).toBe(400);
    expect(td.body).toEqual({ error: 'Granularity "fiscal_quarter" does not exist in dimension orders.created_at', code: 'ERR_QUERY_INVALID' });
    const dim = await post('load', { measures: ['orders.count'], dimensions: ['orders.created_at.decade'] });
    expect(dim.status).toBe(400);
    expect(dim.body.error).toContain('"decade"');
  });

  it('refuses a rolling window measure at a custom granularity with a clear 400', async () => {
    const res = await post('load', {
      measures: ['orders.rolling_amount'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fiscal_year', dateRange: ['2024-01-01', '2024-12-31'] }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('custom granularity fiscal_year');
  });

  it('keeps a rolling window measure at a built-in granularity of the same dimension working', async () => {
    const { data } = await load({
      measures: ['orders.rolling_amount'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-02-29'] }],
    });
    expect(data.map((r) => r['orders.created_at.month'])).toEqual(['2024-01-01T00:00:00.000', '2024-02-01T00:00:00.000']);
  });

  it('lists the custom granularities in /meta and keeps them in /dry-run normalizedQueries', async () => {
    const meta = await request(app.app).get('/cubejs-api/v1/meta').set('Authorization', TOKEN);
    expect(meta.status).toBe(200);
    const dim = (meta.body.cubes as { name: string; dimensions: { name: string; granularities?: unknown[] }[] }[])
      .find((c) => c.name === 'orders')?.dimensions.find((d) => d.name === 'orders.created_at');
    expect(dim?.granularities).toEqual([
      { name: 'fiscal_year', title: 'Fiscal year starting in April', interval: '1 year', offset: '3 months' },
      { name: 'half_year', title: 'Half Year', interval: '6 months' },
      { name: 'fortnight', title: 'Fortnight', interval: '2 weeks', origin: '2024-01-03' },
    ]);
    const dry = await post('dry-run', { measures: ['orders.count'], dimensions: ['orders.created_at.half_year'] });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.normalizedQueries[0].timeDimensions).toEqual([{ dimension: 'orders.created_at', granularity: 'half_year' }]);
  });
});
