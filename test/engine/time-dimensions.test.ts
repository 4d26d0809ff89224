/**
 * Time dimension granularities and timezones over HTTP, against hand-written SQL.
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
const USER = 42;
const token = signToken({ u: { id: USER } });

beforeAll(async () => {
  ({ app: t, db, close } = await openAppAndDatabase());
});
afterAll(() => close());

const GRANULARITIES = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham'] as const;

async function expected(granularity: string, zone: string, range?: [string, string]): Promise<string[]> {
  const where = range
    ? ` AND created_at >= (($2::timestamp) AT TIME ZONE $3) AND created_at < (($4::timestamp + interval '1 day') AT TIME ZONE $3)`
    : '';
  // timezone and granularity come from the fixed lists above, never from a request.
  const { rows } = await db.query<{ bucket: string; n: string }>(
    `SELECT to_char(date_trunc('${granularity}', created_at AT TIME ZONE '${zone}'), 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS bucket, count(*)::text AS n
       FROM tessera_demo.orders WHERE user_id = $1${where} GROUP BY 1 ORDER BY 1`,
    range ? [USER, range[0], zone, range[1]] : [USER],
  );
  return rows.map((r) => `${r.bucket}|${r.n}`);
}

async function actual(granularity: string, zone: string, range?: [string, string]): Promise<{ rows: string[]; body: Record<string, unknown> }> {
  const query = {
    measures: ['Orders.count'],
    timeDimensions: [{ dimension: 'Orders.createdAt', granularity, ...(range ? { dateRange: range } : {}) }],
    timezone: zone,
  };
  const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query) }).set('Authorization', token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const data = res.body.data as Record<string, string>[];
  return { rows: data.map((r) => `${r[`Orders.createdAt.${granularity}`]}|${r['Orders.count']}`), body: res.body };
}

describe('time dimensions', () => {
  for (const zone of ZONES) {
    for (const granularity of GRANULARITIES) {
      it(`groups by ${granularity} in ${zone}`, async () => {
        const want = await expected(granularity, zone);
        expect(want.length).toBeGreaterThan(0);
        expect((await actual(granularity, zone)).rows).toEqual(want);
      });
    }
  }

  it('filters by a date range read in the query timezone', async () => {
    const range: [string, string] = ['2024-01-01', '2024-06-30'];
    const want = await expected('month', 'America/New_York', range);
    expect(want.length).toBeGreaterThan(0);
    const got = await actual('month', 'America/New_York', range);
    expect(got.rows).toEqual(want);
    const td = (got.body.query as { timeDimensions: { dateRange: string[] }[] }).timeDimensions[0];
    expect(td?.dateRange).toEqual(['2024-01-01T00:00:00.000', '2024-06-30T23:59:59.999']);
  });

  it('weeks start on Monday', async () => {
    const { rows } = await actual('week', 'UTC');
    for (const row of rows) {
      const day = new Date(`${row.split('|')[0]}Z`).getUTCDay();
      expect(day).toBe(1);
    }
  });

  it('returns the value under both the granularity key and the plain key', async () => {
    const { body } = await actual('day', 'UTC');
    const first = (body.data as Record<string, string>[])[0] as Record<string, string>;
    expect(first['Orders.createdAt.day']).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000$/);
    expect(first['Orders.createdAt']).toBe(first['Orders.createdAt.day']);
  });

  it('formats a time dimension without granularity in the query timezone', async () => {
    const query = { dimensions: ['Orders.createdAt'], order: { 'Orders.createdAt': 'asc' }, limit: 3, timezone: 'Asia/Kolkata' };
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
    expect(res.status).toBe(200);
    const { rows } = await db.query<{ v: string }>(
      `SELECT DISTINCT to_char(created_at AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS v FROM tessera_demo.orders WHERE user_id = $1 ORDER BY 1 LIMIT 3`,
      [USER],
    );
    expect((res.body.data as Record<string, string>[]).map((r) => r['Orders.createdAt'])).toEqual(rows.map((r) => r.v));
  });

  it('rejects an unknown timezone with a 400 that names the field', async () => {
    const res = await request(t.app)
      .post('/cubejs-api/v1/load')
      .set('Authorization', token)
      .send({ query: { measures: ['Orders.count'], timezone: "UTC'; DROP TABLE orders; --" } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('timezone');
  });
});
