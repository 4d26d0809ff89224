/**
 * queryRewrite and Cube's data access policies over HTTP, against a model
 * (test/policy/fixtures/schema) whose SQL has no context filter at all: the
 * policies alone decide which members and rows a caller gets.
 */
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors/engine-error.js';
import { createTestApp, REPO_ROOT, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const CONFIG = `
import { AuthError } from ${JSON.stringify(path.join(REPO_ROOT, 'src', 'index.js'))};
export default {
  contextToGroups: ({ securityContext }) => securityContext.roles ?? [],
  queryRewrite: (query, { securityContext }) => {
    if (securityContext.blocked) throw new Error('account blocked');
    if (securityContext.suspended) throw new AuthError(402, 'Subscription suspended');
    if (securityContext.completed_only) query.filters.push({ member: 'Orders.status', operator: 'equals', values: ['completed'] });
    if (securityContext.peek_notes) query.filters.push({ member: 'Orders.notes', operator: 'set' });
    return query;
  },
};`;

let t: TestApp;
const truth: Record<string, number> = {};

beforeAll(async () => {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const count = async (sql: string) => Number((await client.query(sql)).rows[0].n);
    truth.allOrders = await count('SELECT count(*) AS n FROM tessera_demo.orders');
    truth.tenant2Orders = await count('SELECT count(*) AS n FROM tessera_demo.orders WHERE tenant_id = 2');
    truth.tenant2OrUser43Orders = await count('SELECT count(*) AS n FROM tessera_demo.orders WHERE tenant_id = 2 OR user_id = 43');
    truth.tenant2Completed = await count(`SELECT count(*) AS n FROM tessera_demo.orders WHERE tenant_id = 2 AND status = 'completed'`);
    truth.tenant2Users = await count('SELECT count(*) AS n FROM tessera_demo.users WHERE tenant_id = 2');
    truth.products = await count('SELECT count(*) AS n FROM tessera_demo.products');
    truth.tenants = await count('SELECT count(*) AS n FROM tessera_demo.tenants');
  } finally {
    await client.end();
  }
  t = await createTestApp({
    schemaPath: path.join(REPO_ROOT, 'test', 'policy', 'fixtures', 'schema'),
    configFile: { name: 'tessera.config.mjs', source: CONFIG },
  });
});

afterAll(async () => {
  await t?.close();
});

const token = (claims: Record<string, unknown>) => signToken({ sub: 'policy-test', ...claims });
const ANALYST = { roles: ['analyst'], tenant_id: 2 };

async function load(claims: Record<string, unknown>, query: object) {
  const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query) }).set('authorization', token(claims));
  return { status: res.status, body: res.body as { data?: Record<string, unknown>[]; error?: string; code?: string } };
}

interface Allowed {
  readonly name: string;
  readonly claims: Record<string, unknown>;
  readonly query: object;
  /** The expected single value of the first measure, from hand-written SQL. */
  readonly expected: () => number;
}

const ALLOWED: readonly Allowed[] = [
  { name: 'an analyst counts the orders of their tenant only', claims: ANALYST, query: { measures: ['Orders.count'] }, expected: () => truth.tenant2Orders as number },
  { name: 'an admin policy with allowAll sees every order', claims: { roles: ['admin'] }, query: { measures: ['Orders.count'] }, expected: () => truth.allOrders as number },
  {
    name: 'an allowAll policy lifts the analyst row filter (policies are ORed)',
    claims: { ...ANALYST, roles: ['analyst', 'admin'] },
    query: { measures: ['Orders.count'] },
    expected: () => truth.allOrders as number,
  },
  {
    name: 'two row-filtered policies granting the same member are ORed',
    claims: { roles: ['analyst', 'support'], tenant_id: 2, user_id: 43 },
    query: { measures: ['Orders.count'] },
    expected: () => truth.tenant2OrUser43Orders as number,
  },
  {
    name: 'members granted by different policies AND their row filters',
    claims: { roles: ['analyst', 'support'], tenant_id: 2, user_id: 43 },
    query: { measures: ['Orders.count', 'Orders.totalAmount'] },
    expected: () => truth.tenant2Orders as number,
  },
  { name: 'an analyst counts the users of their tenant', claims: ANALYST, query: { measures: ['Users.count'], dimensions: ['Users.city'] }, expected: () => truth.tenant2Users as number },
  { name: 'a cube without policies stays open to a caller without groups', claims: {}, query: { measures: ['Products.count'] }, expected: () => truth.products as number },
  { name: 'a policy whose condition holds applies', claims: { can_list_tenants: true }, query: { measures: ['Tenants.count'] }, expected: () => truth.tenants as number },
  {
    name: 'queryRewrite adds a filter on top of the policy',
    claims: { ...ANALYST, completed_only: true },
    query: { measures: ['Orders.count'] },
    expected: () => truth.tenant2Completed as number,
  },
];

interface Denied {
  readonly name: string;
  readonly claims: Record<string, unknown>;
  readonly query: object;
  readonly status: number;
  readonly code: ErrorCode;
  readonly error: string;
}

// Issue 12: a member no policy grants is refused exactly like an unknown member, so it stays invisible.
const forbidden = (member: string) => ({
  status: 400,
  code: 'ERR_QUERY_UNKNOWN_MEMBER' as const,
  error: `Unknown member: ${member}`,
});

const DENIED: readonly Denied[] = [
  { name: 'a member memberLevel does not include', claims: ANALYST, query: { measures: ['Orders.count'], dimensions: ['Orders.notes'] }, ...forbidden('Orders.notes') },
  {
    name: 'a filter on a member the caller may not see',
    claims: ANALYST,
    query: { measures: ['Orders.count'], filters: [{ member: 'Orders.userId', operator: 'equals', values: ['42'] }] },
    ...forbidden('Orders.userId'),
  },
  { name: 'a member memberLevel excludes', claims: ANALYST, query: { measures: ['Users.count'], dimensions: ['Users.email'] }, ...forbidden('Users.email') },
  { name: 'a caller no policy applies to', claims: { roles: ['guest'] }, query: { measures: ['Orders.count'] }, ...forbidden('Orders.count') },
  { name: 'a caller without groups on a policed cube', claims: {}, query: { measures: ['Orders.count'] }, ...forbidden('Orders.count') },
  { name: 'a policy whose condition fails', claims: { can_list_tenants: 'yes' }, query: { measures: ['Tenants.count'] }, ...forbidden('Tenants.count') },
  {
    name: 'a row filter needing a claim the token lacks',
    claims: { roles: ['analyst'] },
    query: { measures: ['Orders.count'] },
    status: 403,
    code: 'ERR_AUTH_CLAIMS_MISSING',
    error: 'Access denied: the access policy of Orders filters rows by the security context claims tenant_id, which this security context does not have',
  },
  {
    name: 'queryRewrite throwing',
    claims: { ...ANALYST, blocked: true },
    query: { measures: ['Orders.count'] },
    status: 403,
    code: 'ERR_AUTH_DENIED',
    error: 'Query denied by queryRewrite',
  },
  {
    name: 'queryRewrite throwing AuthError(402)',
    claims: { ...ANALYST, suspended: true },
    query: { measures: ['Orders.count'] },
    status: 402,
    code: 'ERR_AUTH_DENIED',
    error: 'Subscription suspended',
  },
  {
    name: 'queryRewrite adding a member the policies forbid',
    claims: { ...ANALYST, peek_notes: true },
    query: { measures: ['Orders.count'] },
    ...forbidden('Orders.notes'),
  },
];

describe('access policies and queryRewrite on /load', () => {
  it.each(ALLOWED.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const res = await load(c.claims, c.query);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rows = res.body.data ?? [];
    const measure = (c.query as { measures: string[] }).measures[0] as string;
    expect(rows.reduce((s, r) => s + Number(r[measure]), 0)).toBe(c.expected());
  });

  it.each(DENIED.map((c) => [c.name, c] as const))('denies %s', async (_, c) => {
    const res = await load(c.claims, c.query);
    expect({ status: res.status, body: res.body }).toEqual({ status: c.status, body: { error: c.error, code: c.code } });
  });

  it('ANDs policies across cubes in a join: orders of tenant 2 by users of tenant 2', async () => {
    const res = await load(ANALYST, { measures: ['Orders.count'], dimensions: ['Users.tenantId', 'Orders.tenantId'] });
    expect(res.body.data).toEqual([{ 'Users.tenantId': 2, 'Orders.tenantId': 2, 'Orders.count': String(truth.tenant2Orders) }]);
  });

  it('binds the policy value as a parameter in /sql', async () => {
    const res = await request(t.app)
      .get('/cubejs-api/v1/sql')
      .query({ query: JSON.stringify({ measures: ['Orders.count'] }) })
      .set('authorization', token(ANALYST));
    expect(res.status).toBe(200);
    const [text, params] = (res.body as { sql: { sql: [string, unknown[]] } }).sql.sql;
    // The policy filter applies inside the cube's FROM item and in the outer WHERE, each bound.
    expect(params.length).toBeGreaterThan(0);
    expect(params.every((p) => p === '2')).toBe(true);
    expect(text).toMatch(/tenant_id = \$1/);
    expect(text).not.toMatch(/'2'/);
  });
});

describe('/meta under access policies', () => {
  async function visible(claims: Record<string, unknown>): Promise<Record<string, string[]>> {
    const res = await request(t.app).get('/cubejs-api/v1/meta').set('authorization', token(claims));
    expect(res.status).toBe(200);
    const cubes = (res.body as { cubes: { name: string; measures: { name: string }[]; dimensions: { name: string }[] }[] }).cubes;
    return Object.fromEntries(cubes.map((c) => [c.name, [...c.measures, ...c.dimensions].map((m) => m.name).sort()]));
  }

  it('shows an analyst only the members their policies grant', async () => {
    expect(await visible(ANALYST)).toEqual({
      Orders: ['Orders.count', 'Orders.createdAt', 'Orders.status', 'Orders.tenantId', 'Orders.totalAmount'],
      Products: ['Products.category', 'Products.count'],
      Users: ['Users.city', 'Users.count', 'Users.tenantId'],
    });
  });

  it('shows a caller without groups only the cubes without policies', async () => {
    expect(await visible({})).toEqual({ Products: ['Products.category', 'Products.count'] });
  });
});
