/**
 * The plan cache over HTTP on the real PostgreSQL: requests of one shape with new filter values
 * (GET and POST, nested filters, `total`) return the rows psql returns for each value, for each
 * user's own rows; a value a fresh prepare refuses gets the same 4xx as an app without the cache,
 * and the audit log notes the same cubes, members and row filters as that app does.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import type { AuditLog } from '../../src/audit/create-audit-log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { tenantOfUser, userToken } from '../support/tokens.js';

let admin: pg.Client;
let cached: TestApp;
let uncached: TestApp;
const auditDir = mkdtempSync(path.join(tmpdir(), 'tessera-plan-audit-'));
const auditFile = (name: string) => path.join(auditDir, `${name}.jsonl`);

beforeAll(async () => {
  admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  cached = await createTestApp({ env: { TESSERA_AUDIT: `file:${auditFile('cached')}` } });
  uncached = await createTestApp({ env: { TESSERA_CACHE: 'false', TESSERA_AUDIT: `file:${auditFile('uncached')}` } });
});
afterAll(async () => {
  await admin?.end();
  await cached?.close();
  await uncached?.close();
});

const get = (t: TestApp, query: object, user: number) =>
  request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query) }).set('Authorization', userToken(user));
const post = (t: TestApp, query: object, user: number) =>
  request(t.app).post('/cubejs-api/v1/load').send({ query }).set('Authorization', userToken(user));

const countAbove = (v: string) => ({ measures: ['Orders.count'], filters: [{ member: 'Orders.amount', operator: 'gt', values: [v] }], total: true });
const truthAbove = async (user: number, v: string): Promise<string> =>
  (await admin.query('SELECT count(*)::text AS n FROM tessera_demo.orders WHERE user_id = $1 AND tenant_id = $2 AND amount > $3', [user, tenantOfUser(user), v])).rows[0].n;

describe('the plan cache over /load', () => {
  it('answers each new value of one shape with the rows psql returns for it', async () => {
    for (const user of [42, 7]) {
      for (const v of ['10', '100.5', '250', '0', '1e3', '-1']) {
        const res = await get(cached, countAbove(v), user);
        expect(res.status, res.text).toBe(200);
        const n = await truthAbove(user, v);
        expect(res.body.data).toEqual([{ 'Orders.count': n }]);
        expect(res.body.total).toBe(1);
        expect(res.body.query.filters).toEqual([{ member: 'Orders.amount', operator: 'gt', values: [v] }]);
      }
    }
    // The answers differ by value, so the rows came from each request's own value.
    expect(await truthAbove(42, '10')).not.toBe(await truthAbove(42, '250'));
  });

  it('re-binds every value of nested filters, GET and POST alike', async () => {
    const query = (status: string, qty: number, city: string) => ({
      measures: ['Orders.count'],
      dimensions: ['Orders.status'],
      order: { 'Orders.status': 'asc' },
      filters: [{ or: [{ member: 'Orders.status', operator: 'equals', values: [status] }, { and: [{ member: 'Orders.quantity', operator: 'gte', values: [qty] }, { member: 'Users.city', operator: 'startsWith', values: [city] }] }] }],
    });
    const truth = async (user: number, status: string, qty: number, city: string) =>
      (
        await admin.query(
          `SELECT o.status, count(o.id)::text AS n FROM tessera_demo.orders o LEFT JOIN tessera_demo.users u ON u.id = o.user_id
           WHERE o.user_id = $1 AND o.tenant_id = $2 AND (o.status = $3 OR (o.quantity >= $4 AND u.city ILIKE $5 || '%')) GROUP BY 1 ORDER BY 1`,
          [user, tenantOfUser(user), status, qty, city],
        )
      ).rows.map((r: { status: string; n: string }) => ({ 'Orders.status': r.status, 'Orders.count': r.n }));
    const cases: [string, number, string][] = [['completed', 3, 'Ber'], ['pending', 1, 'M'], ['cancelled', 5, 'Lon'], ['completed', 2, 'x']];
    const answers: unknown[] = [];
    for (const [i, [status, qty, city]] of cases.entries()) {
      const res = await (i % 2 === 0 ? get : post)(cached, query(status, qty, city), 42);
      expect(res.status, res.text).toBe(200);
      expect(res.body.data).toEqual(await truth(42, status, qty, city));
      answers.push(res.body.data);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBeGreaterThan(1);
  });

  it.each([
    ['a non-number on a number member', countAbove('12x')],
    ['a word on a boolean member', { measures: ['Orders.count'], filters: [{ member: 'Orders.isShipped', operator: 'equals', values: ['maybe'] }] }],
    ['a number for a LIKE operator on a number member', { measures: ['Orders.count'], filters: [{ member: 'Orders.amount', operator: 'contains', values: ['1'] }] }],
  ])('refuses %s with the 4xx an uncached app gives, after the shape was cached', async (_name, bad) => {
    await get(cached, countAbove('5'), 42);
    await get(cached, { measures: ['Orders.count'], filters: [{ member: 'Orders.isShipped', operator: 'equals', values: ['true'] }] }, 42);
    const fresh = await get(uncached, bad, 42);
    const got = await get(cached, bad, 42);
    expect(fresh.status).toBeGreaterThanOrEqual(400);
    expect(fresh.status).toBeLessThan(500);
    expect({ status: got.status, error: got.body.error, code: got.body.code }).toEqual({ status: fresh.status, error: fresh.body.error, code: fresh.body.code });
  });

  it('audits a re-bound request exactly as the uncached app audits it', async () => {
    const query = (city: string, qty: number) => ({
      measures: ['Orders.count'],
      dimensions: ['Orders.status'],
      filters: [{ member: 'Users.city', operator: 'equals', values: [city] }, { member: 'Orders.quantity', operator: 'gt', values: [qty] }],
    });
    const ids: string[] = [];
    for (const [i, [city, qty]] of ([['Paris', 1], ['Berlin', 2], ['Tokyo', 0]] as const).entries()) {
      for (const [name, t] of [['cached', cached], ['uncached', uncached]] as const) {
        const id = `plan-audit-${name}-${i}`;
        const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', userToken(42)).set('x-request-id', id).send({ query: query(city, qty) });
        expect(res.status, res.text).toBe(200);
        if (name === 'cached') ids.push(id);
      }
    }
    const records = async (t: TestApp, name: string) => {
      for (let attempt = 0; ; attempt++) {
        await (t.app.locals.audit as AuditLog).close();
        const all = readFileSync(auditFile(name), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
        const mine = all.filter((r) => String(r.requestId).startsWith(`plan-audit-${name}-`));
        if (mine.length === ids.length || attempt >= 100) return mine.sort((a, b) => String(a.requestId).localeCompare(String(b.requestId)));
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const noted = (r: Record<string, unknown>) => ({ cubes: r.cubes, members: r.members, rowFilters: r.rowFilters, dbRole: r.dbRole, rows: r.rows, status: r.status, decision: r.decision });
    const got = (await records(cached, 'cached')).map(noted);
    const fresh = (await records(uncached, 'uncached')).map(noted);
    expect(got).toHaveLength(3);
    expect(got).toEqual(fresh);
    expect(got[0]!.rowFilters).toEqual(expect.arrayContaining(['Orders.sql(id, tenant_id)', 'Users.sql(tenant_id, id)']));
  });
});
