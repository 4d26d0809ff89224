/**
 * Class: access policies follow the data, not the query's wording. A cube's row and member
 * policies hold wherever its rows are read (directly, through a view, as a subQuery dimension,
 * as the middle cube of a join, in compare, blending, total and ungrouped queries), and a view's
 * own access_policy holds for the view. Model: test/security/fixtures/policed (snake_case, as a
 * Cube user writes it). Ground truth: hand-written SQL on the demo tables.
 */
import path from 'node:path';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryPolicies } from '../../src/policy/create-query-policies.js';
import { loadModel } from '../../src/schema/load-model.js';
import type { Model } from '../../src/schema/model.js';
import { testConfig } from '../auth/support/test-config.js';
import { authWith, query } from '../policy/support/policy-model.js';
import { openAppAndDatabase, type AppAndDatabase } from '../support/app-and-database.js';
import { REPO_ROOT, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const MODEL = path.join(REPO_ROOT, 'test', 'security', 'fixtures', 'policed');

let t: TestApp;
let db: pg.Client;
let model: Model;

let opened: AppAndDatabase;

beforeAll(async () => {
  opened = await openAppAndDatabase({ schemaPath: MODEL });
  ({ app: t, db } = opened);
  model = await loadModel(MODEL);
});
afterAll(async () => opened?.close());

const tenantToken = (tenant: number) => signToken({ sub: `tenant-${tenant}-app`, tenant_id: tenant });
const load = (tenant: number, q: unknown, multi = false) =>
  request(t.app)
    .post('/cubejs-api/v1/load')
    .set('Authorization', tenantToken(tenant))
    .send({ query: q, ...(multi ? { queryType: 'multi' } : {}) });
const scalar = async (sql: string, params: unknown[] = []) => String((await db.query(sql, params)).rows[0]?.n);

describe('a view with its own access_policy', () => {
  it('gives a tenant 1 caller only tenant 1 rows through the view', async () => {
    const res = await load(1, { measures: ['tenant_orders.count'], dimensions: ['tenant_orders.tenant_id'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual([
      { 'tenant_orders.tenant_id': 1, 'tenant_orders.count': await scalar('SELECT count(*) AS n FROM orders WHERE tenant_id = 1') },
    ]);
  });

  it('applies the view row filter when the view is named only in a filter', async () => {
    const res = await load(2, {
      measures: ['tenant_orders.count'],
      filters: [{ member: 'tenant_orders.status', operator: 'equals', values: ['completed'] }],
    });
    expect(res.body.data).toEqual([
      { 'tenant_orders.count': await scalar(`SELECT count(*) AS n FROM orders WHERE tenant_id = 2 AND status = 'completed'`) },
    ]);
  });

  it('refuses a view member its member_level does not include, exactly like an unknown member', async () => {
    for (const member of ['tenant_orders.notes', 'tenant_orders.total_amount']) {
      const asDimension = member.endsWith('notes') ? { dimensions: [member], measures: ['tenant_orders.count'] } : { measures: [member] };
      const res = await load(1, asDimension);
      expect([res.status, res.body]).toEqual([400, { error: `Unknown member: ${member}`, code: 'ERR_QUERY_UNKNOWN_MEMBER' }]);
    }
    const inFilter = await load(1, {
      measures: ['tenant_orders.count'],
      filters: [{ member: 'tenant_orders.notes', operator: 'set' }],
    });
    expect(inFilter.body).toEqual({ error: 'Unknown member: tenant_orders.notes', code: 'ERR_QUERY_UNKNOWN_MEMBER' });
  });

  it('hides the cube behind the view, so it cannot be queried around the view policy', async () => {
    const res = await load(1, { measures: ['order_facts.count'] });
    expect([res.status, res.body.error]).toEqual([400, 'Unknown member: order_facts.count']);
  });

  it('shows in /meta only the view members its policy grants', async () => {
    const res = await request(t.app).get('/cubejs-api/v1/meta').set('Authorization', tenantToken(1));
    const view = (res.body.cubes as { name: string; measures: { name: string }[]; dimensions: { name: string }[] }[]).find(
      (c) => c.name === 'tenant_orders',
    );
    expect([...(view?.measures ?? []), ...(view?.dimensions ?? [])].map((m) => m.name).sort()).toEqual([
      'tenant_orders.count',
      'tenant_orders.status',
      'tenant_orders.tenant_id',
    ]);
  });

  it('refuses a caller whose token lacks the claim the view policy filters by', async () => {
    const res = await request(t.app)
      .post('/cubejs-api/v1/load')
      .set('Authorization', signToken({ sub: 'x', tenantId: 1 }))
      .send({ query: { measures: ['tenant_orders.count'] } });
    expect([res.status, res.body.code]).toEqual([403, 'ERR_AUTH_CLAIMS_MISSING']);
  });
});

describe('a policed cube read directly, in every query shape', () => {
  it('holds in total and ungrouped queries', async () => {
    const total = await load(3, { measures: ['orders.count'], dimensions: ['orders.status'], total: true, limit: 1 });
    expect(total.body.total).toBe(Number(await scalar('SELECT count(DISTINCT status) AS n FROM orders WHERE tenant_id = 3')));
    const ungrouped = await load(3, { dimensions: ['orders.tenant_id'], ungrouped: true, limit: 50_000 });
    expect(new Set(ungrouped.body.data.map((r: Record<string, unknown>) => r['orders.tenant_id']))).toEqual(new Set([3]));
    expect(String(ungrouped.body.data.length)).toBe(await scalar('SELECT count(*) AS n FROM orders WHERE tenant_id = 3'));
  });

  it('holds in every range of a compareDateRange query', async () => {
    const ranges = [['2024-01-01', '2024-03-31'], ['2025-01-01', '2025-03-31']];
    const res = await load(4, { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', compareDateRange: ranges }] }, true);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const counts = res.body.results.map((r: { data: Record<string, unknown>[] }) => r.data[0]?.['orders.count']);
    const expected = [];
    for (const [from, to] of ranges) {
      expected.push(
        await scalar(`SELECT count(*) AS n FROM orders WHERE tenant_id = 4 AND created_at >= $1::date AND created_at < $2::date + 1`, [from, to]),
      );
    }
    expect(counts).toEqual(expected);
  });

  it('holds in each query of a blending query', async () => {
    const byMonth = (measure: string, dim: string) => ({
      measures: [measure],
      timeDimensions: [{ dimension: dim, granularity: 'year', dateRange: ['2024-01-01', '2024-12-31'] }],
    });
    const res = await load(5, [byMonth('orders.count', 'orders.created_at'), byMonth('orders.total_amount', 'orders.created_at')], true);
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const want = await scalar(`SELECT count(*) AS n FROM orders WHERE tenant_id = 5 AND created_at >= '2024-01-01' AND created_at < '2025-01-01'`);
    expect(res.body.results[0].data[0]['orders.count']).toBe(want);
    const amount = await db.query(
      `SELECT sum(amount) AS n FROM orders WHERE tenant_id = 5 AND created_at >= '2024-01-01' AND created_at < '2025-01-01'`,
    );
    expect(Number(res.body.results[1].data[0]['orders.total_amount'])).toBeCloseTo(Number(amount.rows[0].n), 2);
  });
});

describe('a policed cube read indirectly', () => {
  it('counts only the caller tenant orders inside a subQuery dimension of an open cube', async () => {
    const res = await load(1, { dimensions: ['users.email', 'users.order_count'], limit: 2000 });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const truth = await db.query<{ email: string; n: string }>(
      `SELECT u.email, count(o.id)::text AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.tenant_id = 1 GROUP BY u.email`,
    );
    const want = new Map(truth.rows.map((r) => [r.email, Number(r.n)]));
    for (const row of res.body.data as Record<string, unknown>[]) {
      expect(Number(row['users.order_count'] ?? 0), String(row['users.email'])).toBe(want.get(String(row['users.email'])));
    }
  });

  it('filters a policed middle cube of a three-cube join path', async () => {
    const res = await load(1, { dimensions: ['users.email', 'products.category'], limit: 50_000 });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const truth = await db.query<{ email: string; category: string }>(
      `SELECT DISTINCT u.email, p.category FROM orders o JOIN users u ON u.id = o.user_id JOIN products p ON p.id = o.product_id WHERE o.tenant_id = 1`,
    );
    const want = new Set(truth.rows.map((r) => `${r.email}|${r.category}`));
    const got = (res.body.data as Record<string, unknown>[])
      .filter((r) => r['products.category'] !== null)
      .map((r) => `${String(r['users.email'])}|${String(r['products.category'])}`);
    expect(new Set(got)).toEqual(want);
  });

  it('gives the compiler the middle cube row filter in securityFilters, without naming it in filters', async () => {
    const stages = createQueryPolicies(testConfig(), model);
    const q = query({ dimensions: ['users.email', 'products.category'] });
    const restricted = await stages.restrict(q, authWith({ tenant_id: 1 }), { cubes: ['users', 'orders', 'products'], views: [] });
    expect(restricted.securityFilters).toEqual({
      orders: [{ kind: 'leaf', member: 'orders.tenant_id', operator: 'equals', values: ['1'] }],
    });
    expect(restricted.filters).toEqual([]);
  });

  it('gives the subQuery inner cube row filter in securityFilters', async () => {
    const stages = createQueryPolicies(testConfig(), model);
    const restricted = await stages.restrict(query({ dimensions: ['users.email', 'users.order_count'] }), authWith({ tenant_id: 2 }), {
      cubes: ['users', 'orders'],
      views: [],
    });
    expect(restricted.securityFilters?.orders).toEqual([{ kind: 'leaf', member: 'orders.tenant_id', operator: 'equals', values: ['2'] }]);
  });

  it('maps a view row filter onto the cube behind it, in filters and in securityFilters', async () => {
    const stages = createQueryPolicies(testConfig(), model);
    const restricted = await stages.restrict(query({ measures: ['order_facts.count'] }), authWith({ tenant_id: 3 }), {
      cubes: ['order_facts'],
      views: ['tenant_orders'],
    });
    const leaf = { kind: 'leaf', member: 'order_facts.tenant_id', operator: 'equals', values: ['3'] };
    expect(restricted.securityFilters).toEqual({ order_facts: [leaf] });
    expect(restricted.filters).toEqual([{ kind: 'and', filters: [leaf] }]);
  });

  it('refuses a read cube whose policy filters by a claim the context lacks, even when the query names none of its members', async () => {
    const stages = createQueryPolicies(testConfig(), model);
    const restrict = stages.restrict(query({ dimensions: ['users.email'] }), authWith({ tenant_id: 1, no: true }), {
      cubes: ['users', 'orders'],
      views: [],
    });
    await expect(restrict).resolves.toBeDefined();
    const noTenant = stages.restrict(query({ dimensions: ['users.email'] }), authWith({ tenant: 1 }), { cubes: ['users', 'orders'], views: [] });
    await expect(noTenant).rejects.toMatchObject({ code: 'ERR_AUTH_CLAIMS_MISSING' });
  });
});
