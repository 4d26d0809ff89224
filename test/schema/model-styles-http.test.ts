/**
 * Each fixture model style against its JS twin over HTTP: the same SQL from /sql and the
 * same rows from /load, and rows equal to hand-written SQL on the demo data.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/create-app.js';
import { createModelProvider } from '../../src/schema/model-provider.js';
import type { SecurityContext } from '../../src/schema/model.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models');

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  await db.query(`SET TIME ZONE 'UTC'`);
});
afterAll(() => db.end());

type Row = Record<string, unknown>;

async function post(app: TestApp['app'], endpoint: 'sql' | 'load', query: unknown, token: string) {
  const res = await request(app).post(`/cubejs-api/v1/${endpoint}`).set('Authorization', token).send({ query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { sql?: { sql: [string, unknown[]] }; data?: Row[] };
}

/** Loads `query` from the styled folder and its twin; asserts the same SQL and rows; returns the rows. */
async function sameOverHttp(styled: TestApp['app'], twin: TestApp['app'], query: unknown, token: string): Promise<Row[]> {
  const [a, b] = [await post(styled, 'sql', query, token), await post(twin, 'sql', query, token)];
  expect(a.sql!.sql).toEqual(b.sql!.sql);
  const [rowsA, rowsB] = [(await post(styled, 'load', query, token)).data!, (await post(twin, 'load', query, token)).data!];
  expect(rowsA).toEqual(rowsB);
  return rowsA;
}

async function withTwins(folder: string, body: (styled: TestApp['app'], twin: TestApp['app']) => Promise<void>) {
  const styled = await createTestApp({ schemaPath: path.join(FIXTURES, folder) });
  const twin = await createTestApp({ schemaPath: path.join(FIXTURES, `${folder}-js`) });
  try {
    await body(styled.app, twin.app);
  } finally {
    await styled.close();
    await twin.close();
  }
}

const tenant = (id: number) => signToken({ tenant_id: id });

describe('model styles over HTTP, against their JS twins and hand-written SQL', () => {
  it('YAML only: a tenant-filtered cube, a view with aliases, prefixes and folders', async () => {
    await withTwins('yaml-only', async (styled, twin) => {
      const rows = await sameOverHttp(
        styled,
        twin,
        { measures: ['orders.count', 'orders.total_amount', 'orders.completion_rate'], dimensions: ['orders.status'], order: { 'orders.status': 'asc' } },
        tenant(3),
      );
      const { rows: expected } = await db.query<{ status: string; n: string; total: string }>(
        `SELECT status, count(*)::text AS n, sum(amount)::text AS total FROM orders WHERE tenant_id = 3 GROUP BY status ORDER BY status`,
      );
      expect(rows.map((r) => [r['orders.status'], r['orders.count'], r['orders.total_amount']])).toEqual(expected.map((r) => [r.status, r.n, r.total]));
      await sameOverHttp(styled, twin, { measures: ['sales.count', 'sales.revenue'], dimensions: ['sales.users_city', 'sales.product_category'], limit: 20 }, tenant(2));
      await sameOverHttp(styled, twin, { measures: ['orders.count'], dimensions: ['orders.size'], segments: ['orders.completed'] }, tenant(1));
    });
  });

  it('YAML with Jinja: loop-generated measures and cubes, macros from another file', async () => {
    await withTwins('yaml-jinja', async (styled, twin) => {
      const rows = await sameOverHttp(
        styled,
        twin,
        { measures: ['orders.completed_count', 'orders.cancelled_count', 'orders.total_amount'], dimensions: ['users.city'], order: { 'users.city': 'asc' } },
        tenant(2),
      );
      const { rows: expected } = await db.query<{ city: string; c: string; x: string; t: string }>(
        `SELECT u.city, count(*) FILTER (WHERE o.status = 'completed')::text AS c, count(*) FILTER (WHERE o.status = 'cancelled')::text AS x,
                sum(o.amount)::text AS t
           FROM orders o JOIN users u ON u.id = o.user_id WHERE o.tenant_id = 2 GROUP BY u.city ORDER BY u.city`,
      );
      expect(rows.map((r) => [r['users.city'], r['orders.completed_count'], r['orders.cancelled_count'], r['orders.total_amount']])).toEqual(
        expected.map((r) => [r.city, r.c, r.x, r.t]),
      );
    });
  });

  it('mixed JS and YAML: a YAML view over JS cubes, a YAML cube extending a JS cube', async () => {
    await withTwins('mixed', async (styled, twin) => {
      await sameOverHttp(styled, twin, { measures: ['OrdersByCity.count', 'OrdersByCity.totalAmount'], dimensions: ['OrdersByCity.Users_city'], limit: 10 }, tenant(1));
      const rows = await sameOverHttp(styled, twin, { measures: ['CompletedOrders.count', 'CompletedOrders.averageAmount'] }, tenant(1));
      const { rows: expected } = await db.query<{ n: string; a: string }>(`SELECT count(*)::text AS n, avg(amount)::text AS a FROM orders WHERE status = 'completed'`);
      expect(rows).toEqual([{ 'CompletedOrders.count': expected[0]!.n, 'CompletedOrders.averageAmount': expected[0]!.a }]);
      // A YAML cube joining the JS cube.
      await sameOverHttp(styled, twin, { measures: ['OrderItems.quantity'], dimensions: ['Orders.status'] }, tenant(1));
    });
  });

  it('ES modules, require and asyncModule: the generated members answer like hand-written ones', async () => {
    await withTwins('es-modules', async (styled, twin) => {
      const rows = await sameOverHttp(
        styled,
        twin,
        { measures: ['orders.count', 'orders.shipped_count', 'orders.quantity'], dimensions: ['orders.source'] },
        tenant(4),
      );
      const { rows: expected } = await db.query<{ n: string; s: string; q: string }>(
        `SELECT count(*)::text AS n, count(*) FILTER (WHERE status = 'shipped')::text AS s, sum(quantity)::text AS q FROM orders`,
      );
      expect(rows).toEqual([{ 'orders.source': 'orders.js', 'orders.count': expected[0]!.n, 'orders.shipped_count': expected[0]!.s, 'orders.quantity': expected[0]!.q }]);
      await sameOverHttp(styled, twin, { measures: ['users.count'], dimensions: ['users.orders_cube'] }, tenant(4));
    });
  });

  it('snake_case keys throughout: joins, rolling windows, count_distinct, sub_query', async () => {
    await withTwins('snake-case', async (styled, twin) => {
      const rows = await sameOverHttp(styled, twin, { measures: ['orders.count', 'orders.distinct_users'], dimensions: ['users.city'], order: { 'users.city': 'asc' }, limit: 5 }, tenant(5));
      const { rows: expected } = await db.query<{ city: string; n: string; d: string }>(
        `SELECT u.city, count(*)::text AS n, count(DISTINCT o.user_id)::text AS d FROM orders o JOIN users u ON u.id = o.user_id GROUP BY u.city ORDER BY u.city LIMIT 5`,
      );
      expect(rows.map((r) => [r['users.city'], r['orders.count'], r['orders.distinct_users']])).toEqual(expected.map((r) => [r.city, r.n, r.d]));
      await sameOverHttp(
        styled,
        twin,
        { measures: ['orders.rolling_amount'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-03-01', '2024-03-05'] }] },
        tenant(5),
      );
    });
  });

  it('custom granularities: the standard granularities still answer, from both twins alike', async () => {
    await withTwins('granularities', async (styled, twin) => {
      const rows = await sameOverHttp(
        styled,
        twin,
        { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-03-31'] }] },
        tenant(1),
      );
      const { rows: expected } = await db.query<{ m: string; n: string }>(
        `SELECT to_char(date_trunc('month', created_at), 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS m, count(*)::text AS n
           FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-04-01' GROUP BY 1 ORDER BY 1`,
      );
      expect(rows.map((r) => [r['orders.created_at.month'], r['orders.count']])).toEqual(expected.map((r) => [r.m, r.n]));
    });
  });

  it('COMPILE_CONTEXT: each tenant gets its own compiled model, and the Jinja and JS twins agree', async () => {
    const base = await createTestApp({ schemaPath: path.join(FIXTURES, 'yaml-only') });
    try {
      const providers = await Promise.all(['compile-context', 'compile-context-js'].map((f) => createModelProvider(path.join(FIXTURES, f))));
      for (const sc of [{ tenant_id: 1, plan: 'free' }, { tenant_id: 2, plan: 'enterprise' }] as SecurityContext[]) {
        // What the server does per request: the provider's model for the verified context.
        const [styled, twin] = await Promise.all(providers.map(async (p) => createApp(Object.freeze({ ...base.deps, model: await p.modelFor(sc) }))));
        const measures = sc.plan === 'enterprise' ? ['orders.count', 'orders.average_amount'] : ['orders.count'];
        const rows = await sameOverHttp(styled!, twin!, { measures, dimensions: ['orders.tenant_label'] }, signToken(sc));
        const { rows: expected } = await db.query<{ n: string; a: string }>(`SELECT count(*)::text AS n, avg(amount)::text AS a FROM orders WHERE tenant_id = $1`, [sc.tenant_id]);
        expect(rows).toEqual([
          {
            'orders.tenant_label': `tenant_${String(sc.tenant_id)}`,
            'orders.count': expected[0]!.n,
            ...(sc.plan === 'enterprise' ? { 'orders.average_amount': expected[0]!.a } : {}),
          },
        ]);
      }
    } finally {
      await base.close();
    }
  });
});
