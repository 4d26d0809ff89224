/**
 * Injection attempts through every request-controlled input. Each must either be
 * rejected with a 4xx or reach SQL only as a bound parameter; the tables stay intact.
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
let before: Record<string, string>;

const PAYLOADS = [
  `'; DROP TABLE orders; --`,
  `1; DELETE FROM users`,
  `" OR 1=1 --`,
  `$1) OR (1=1`,
  `\\'; TRUNCATE products; --`,
  `') UNION SELECT password FROM pg_shadow --`,
  `\u0000 1 = 1`,
  `∑ unicode ' ) ; --`,
];

async function tableCounts(): Promise<Record<string, string>> {
  const { rows } = await db.query<{ t: string; n: string }>(
    `SELECT 'orders' AS t, count(*)::text AS n FROM orders UNION ALL SELECT 'users', count(*)::text FROM users
     UNION ALL SELECT 'products', count(*)::text FROM products UNION ALL SELECT 'order_items', count(*)::text FROM order_items`,
  );
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}

beforeAll(async () => {
  ({ app: t, db, close } = await openAppAndDatabase());
  before = await tableCounts();
});
afterAll(async () => {
  expect(await tableCounts()).toEqual(before);
  await close();
});

const token = signToken({ u: { id: 42 } });

async function sqlOf(query: unknown, tok = token): Promise<{ status: number; text?: string; params?: unknown[] }> {
  const res = await request(t.app).post('/cubejs-api/v1/sql').set('Authorization', tok).send({ query });
  if (res.status !== 200) return { status: res.status };
  const [text, params] = res.body.sql.sql as [string, unknown[]];
  return { status: res.status, text, params };
}

describe('injection attempts', () => {
  it.each(PAYLOADS.filter((p) => !p.includes('\u0000')))('binds a filter value as a parameter: %s', async (payload) => {
    for (const operator of ['equals', 'contains', 'startsWith', 'notEndsWith']) {
      const query = { measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator, values: [payload] }] };
      const compiled = await sqlOf(query);
      expect(compiled.status).toBe(200);
      expect(compiled.text).not.toContain(payload);
      expect(compiled.text).not.toMatch(/DROP|DELETE|TRUNCATE|UNION|pg_shadow/i);
      const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
      expect(res.status).toBe(200);
      // Nothing matches the payload, so a negated operator keeps all of user 42's orders.
      const all = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM orders WHERE user_id = 42');
      expect(res.body.data[0]['Orders.count']).toBe(operator.startsWith('not') ? all.rows[0]?.n : '0');
    }
  });

  it.each(PAYLOADS)('binds a security-context value as a parameter: %s', async (payload) => {
    const evil = signToken({ u: { id: payload }, tenant_id: [payload, 2] });
    const compiled = await sqlOf({ measures: ['Orders.count'] }, evil);
    expect(compiled.status).toBe(200);
    expect(compiled.text).not.toContain(payload);
    expect(compiled.params).toEqual([payload, payload, 2]);
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', evil).send({ query: { measures: ['Orders.count'] } });
    // A string where the column is an integer is a bad input, never executed as SQL.
    expect(res.status).toBeLessThan(500);
  });

  it.each(PAYLOADS)('rejects a member name carrying SQL: %s', async (payload) => {
    for (const query of [
      { measures: [`Orders.count${payload}`] },
      { measures: ['Orders.count'], dimensions: [`Orders.${payload}`] },
      { measures: ['Orders.count'], filters: [{ member: `Orders.status ${payload}`, operator: 'equals', values: ['x'] }] },
      { measures: ['Orders.count'], segments: [`Orders.${payload}`] },
      { measures: ['Orders.count'], timeDimensions: [{ dimension: `Orders.createdAt${payload}`, granularity: 'day' }] },
    ]) {
      const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).not.toContain('DROP TABLE');
    }
  });

  it.each(PAYLOADS)('rejects order keys, directions, granularities and timezones carrying SQL: %s', async (payload) => {
    for (const query of [
      { measures: ['Orders.count'], dimensions: ['Orders.status'], order: { [`Orders.status${payload}`]: 'asc' } },
      { measures: ['Orders.count'], dimensions: ['Orders.status'], order: { 'Orders.status': payload } },
      { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: payload }] },
      { measures: ['Orders.count'], timezone: payload },
      { measures: ['Orders.count'], limit: payload },
    ]) {
      const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
      expect(res.status).toBe(400);
    }
  });

  it('rejects a NUL character in a filter value with a 400 naming the filter', async () => {
    const query = { measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'equals', values: ['\u0000 1 = 1'] }] };
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('filters[0].values[0]');
  });

  it('binds date values and the timezone instead of writing them into SQL', async () => {
    const compiled = await sqlOf({
      measures: ['Orders.count'],
      timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'day', dateRange: ['2024-01-01', '2024-01-31'] }],
      timezone: 'Europe/Berlin',
    });
    expect(compiled.text).not.toContain('Europe/Berlin');
    expect(compiled.text).not.toContain('2024-01');
    expect(compiled.params).toContain('Europe/Berlin');
  });

  it('does not echo the SQL or its parameters in a database error', async () => {
    const evil = signToken({ u: { id: 'not-a-number' } });
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', evil).send({ query: { measures: ['Orders.count'] } });
    expect(JSON.stringify(res.body)).not.toContain('not-a-number');
    expect(JSON.stringify(res.body)).not.toMatch(/SELECT|tessera_demo\.orders/);
  });
});
