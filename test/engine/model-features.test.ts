/**
 * Issue 5 model features over HTTP against hand-written SQL: rolling windows,
 * subQuery dimensions and views.
 */
import request from 'supertest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppAndDatabase } from '../support/app-and-database.js';
import type { TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

let t: TestApp;
let db: pg.Client;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ app: t, db, close } = await openAppAndDatabase());
});
afterAll(() => close());

const load = async (query: unknown, token: string) => {
  const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as Record<string, string | null>[];
};

describe('rolling windows', () => {
  const token = signToken({ tenant_id: 3 });
  const query = {
    measures: ['Orders.rollingAmount7d', 'Orders.runningAmount', 'Orders.monthToDateCount', 'Orders.count'],
    timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'day', dateRange: ['2024-02-25', '2024-03-05'] }],
  };

  it('sums the trailing 7 days, everything so far, and month to date per day', async () => {
    const { rows } = await db.query<{ day: string; r7: string | null; run: string | null; mtd: string; n: string }>(
      `SELECT to_char(d, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS day,
              (SELECT sum(amount)::text FROM orders WHERE tenant_id = 3 AND created_at > d + interval '1 day' - interval '7 days' - interval '1 ms' AND created_at < d + interval '1 day') AS r7,
              (SELECT sum(amount)::text FROM orders WHERE tenant_id = 3 AND created_at < d + interval '1 day') AS run,
              (SELECT count(*)::text FROM orders WHERE tenant_id = 3 AND created_at >= date_trunc('month', d) AND created_at < d + interval '1 day') AS mtd,
              (SELECT count(*)::text FROM orders WHERE tenant_id = 3 AND created_at >= d AND created_at < d + interval '1 day') AS n
         FROM generate_series(timestamp '2024-02-25', timestamp '2024-03-05', interval '1 day') AS d ORDER BY 1`,
    );
    const data = await load(query, token);
    expect(data.map((r) => [r['Orders.createdAt.day'], r['Orders.rollingAmount7d'], r['Orders.runningAmount'], r['Orders.monthToDateCount'], r['Orders.count']])).toEqual(
      rows.map((r) => [r.day, r.r7, r.run, r.mtd, r.n]),
    );
  });

  it('asks for a date range when a rolling window has none', async () => {
    const res = await request(t.app)
      .post('/cubejs-api/v1/load')
      .set('Authorization', token)
      .send({ query: { measures: ['Orders.runningAmount'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }] } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('dateRange');
  });
});

describe('subQuery dimensions', () => {
  it('groups users by their own order total, inside the caller\'s tenant', async () => {
    const data = await load(
      { measures: ['Users.count'], dimensions: ['Users.lifetimeValue'], order: { 'Users.lifetimeValue': 'desc' }, limit: 5 },
      signToken({ tenant_id: 4 }),
    );
    const { rows } = await db.query<{ v: string; n: string }>(
      `SELECT v, count(*)::text AS n FROM (SELECT u.id, (SELECT sum(o.amount) FROM orders o WHERE o.user_id = u.id AND o.tenant_id = 4)::text AS v
         FROM users u WHERE u.tenant_id = 4) s GROUP BY v ORDER BY v::numeric DESC NULLS FIRST LIMIT 5`,
    );
    expect(data.map((r) => [r['Users.lifetimeValue'], r['Users.count']])).toEqual(rows.map((r) => [r.v, r.n]));
  });
});

describe('views', () => {
  it('answers view members with the cubes\' SQL and security filters', async () => {
    const data = await load(
      { measures: ['OrdersOverview.count', 'OrdersOverview.totalAmount'], dimensions: ['OrdersOverview.Users_city'], filters: [{ member: 'OrdersOverview.status', operator: 'equals', values: ['completed'] }] },
      signToken({ tenant_id: 2 }),
    );
    const { rows } = await db.query<{ city: string; n: string; total: string }>(
      `SELECT u.city, count(*)::text AS n, sum(o.amount)::text AS total FROM orders o JOIN users u ON u.id = o.user_id
        WHERE o.tenant_id = 2 AND u.tenant_id = 2 AND o.status = 'completed' GROUP BY u.city ORDER BY count(*) DESC, u.city`,
    );
    const sorted = [...data].sort((a, b) => Number(b['OrdersOverview.count']) - Number(a['OrdersOverview.count']) || String(a['OrdersOverview.Users_city']).localeCompare(String(b['OrdersOverview.Users_city'])));
    expect(sorted.map((r) => [r['OrdersOverview.Users_city'], r['OrdersOverview.count'], r['OrdersOverview.totalAmount']])).toEqual(rows.map((r) => [r.city, r.n, r.total]));
  });

  it('does not expose members the view leaves out', async () => {
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', signToken({})).send({ query: { dimensions: ['OrdersOverview.notes'] } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('Unknown member: OrdersOverview.notes');
  });
});

describe('FILTER_PARAMS', () => {
  const token = signToken({ tenant_id: 1 });
  const query = {
    measures: ['OrderItems.totalQuantity'],
    dimensions: ['Orders.status'],
    timeDimensions: [{ dimension: 'Orders.createdAt', dateRange: ['2024-05-01', '2024-05-31'] }],
  };

  it('renders the query\'s own filter inside the cube SQL with bound parameters', async () => {
    const res = await request(t.app).post('/cubejs-api/v1/sql').set('Authorization', token).send({ query });
    const [text, params] = res.body.sql.sql as [string, unknown[]];
    expect(text).toMatch(/AND \(+o\.created_at >= \$\d+::timestamptz AND o\.created_at <= \$\d+::timestamptz\)+/);
    expect(text).not.toContain('2024-05');
    expect(params).toContain('2024-05-01T00:00:00.000Z');
  });

  it('renders 1 = 1 when the query has no such filter, and the numbers match hand-written SQL', async () => {
    const plain = await request(t.app).post('/cubejs-api/v1/sql').set('Authorization', token).send({ query: { measures: ['OrderItems.totalQuantity'] } });
    expect(plain.body.sql.sql[0]).toContain('AND 1 = 1');
    const data = await load(query, token);
    const { rows } = await db.query<{ status: string; q: string }>(
      `SELECT o.status, sum(oi.quantity)::text AS q FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WHERE o.tenant_id = 1 AND o.created_at >= '2024-05-01Z' AND o.created_at < '2024-06-01Z' GROUP BY o.status ORDER BY sum(oi.quantity) DESC`,
    );
    expect(data.map((r) => [r['Orders.status'], r['OrderItems.totalQuantity']])).toEqual(rows.map((r) => [r.status, r.q]));
  });
});
