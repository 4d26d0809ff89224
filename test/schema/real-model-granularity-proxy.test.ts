/**
 * Proxy dimensions over custom granularities (`sql: "{opened_at.fiscal_year}"`), as Cube's
 * custom-granularity recipe writes them; rows compared with hand-written SQL over the same data.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSameRows, type Row } from '../conformance/harness.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models', 'real-styles', 'granularity-proxy', 'model');
const TOKEN = signToken({ sub: 'analyst' });
const fmt = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
// The same four rows the fixture cube selects.
const DATA = `(VALUES (1, '2024-01-06 10:00:00'::timestamp), (2, '2024-01-07 09:00:00'::timestamp),
  (3, '2024-03-31 23:00:00'::timestamp), (4, '2024-10-02 08:00:00'::timestamp)) AS t(id, opened_at)`;

let app: TestApp;
let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  await db.query(`SET TIME ZONE 'UTC'`);
  app = await createTestApp({ schemaPath: MODEL_DIR });
});
afterAll(async () => {
  await db?.end();
  await app?.close();
});

async function load(query: unknown): Promise<Row[]> {
  const res = await request(app.app).post('/cubejs-api/v1/load').set('Authorization', TOKEN).send({ query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as Row[];
}

describe('granularity proxy dimensions', () => {
  it('gives a Sunday-start week and an October fiscal year (interval with offset) as truncation shifted by the offset', async () => {
    const actual = await load({ dimensions: ['tickets.opened_sunday_week', 'tickets.opened_fiscal_year', 'tickets.fiscal_year_label'], measures: ['tickets.count'] });
    const expected = await db.query<Row>(`
      SELECT ${fmt(`date_trunc('week', opened_at + interval '1 day') - interval '1 day'`)} AS "tickets.opened_sunday_week",
             ${fmt(`date_trunc('year', opened_at + interval '3 months') - interval '3 months'`)} AS "tickets.opened_fiscal_year",
             'FY' || (EXTRACT(YEAR FROM date_trunc('year', opened_at + interval '3 months') - interval '3 months') + 1) AS "tickets.fiscal_year_label",
             count(*)::text AS "tickets.count"
      FROM ${DATA} GROUP BY 1, 2, 3`);
    expect(expected.rows.map((r) => r['tickets.opened_sunday_week'])).toContain('2023-12-31T00:00:00.000');
    expectSameRows(actual, expected.rows, false, 'sunday week and fiscal year');
  });

  it('bins a two-week granularity from its origin, and reads a predefined granularity of the same dimension', async () => {
    const actual = await load({ dimensions: ['tickets.opened_fortnight', 'tickets.opened_month'], measures: ['tickets.count'] });
    const expected = await db.query<Row>(`
      SELECT ${fmt(`'2024-01-01'::timestamp + interval '14 days' * floor(extract(epoch from opened_at - '2024-01-01'::timestamp) / (14 * 86400))`)} AS "tickets.opened_fortnight",
             ${fmt(`date_trunc('month', opened_at)`)} AS "tickets.opened_month",
             count(*)::text AS "tickets.count"
      FROM ${DATA} GROUP BY 1, 2`);
    expectSameRows(actual, expected.rows, false, 'fortnight and month');
  });
});
