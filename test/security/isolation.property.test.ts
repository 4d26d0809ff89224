/**
 * The property behind every class: whatever the context (missing, misspelled, extra or legacy `u`
 * claims) and however it arrives (a token or an API key bound to the same payload), every row of
 * every query shape (direct, view over a policed cube, join to an open cube, compare, blending)
 * is exactly what hand-written SQL returns for that context on the database, or the query is
 * refused with 403 because the context lacks the claims a row filter needs.
 *
 * Two models: the demo (row filters with `.filter()` on the merged context) and
 * test/security/fixtures/policed (access policies on the raw payload, and a view with its own).
 */
import path from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucket, canonical } from '../conformance/harness.js';
import { startOperatorApp, type OperatorApp } from '../operator/operator-fixtures.js';
import { REPO_ROOT, testDatabaseUrl } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const RUNS = Number(process.env.TESSERA_PROPERTY_RUNS ?? 60);
const PASSWORD = 'Isolation property 4$';
const POLICED = path.join(REPO_ROOT, 'test', 'security', 'fixtures', 'policed');

type Scalar = number | string;
/** Where a claim travels, including the places an attacker hopes Tessera reads it from. */
type Placement = 'absent' | 'top' | 'u' | 'misspelled' | 'both';

interface Claims {
  readonly tenant: { readonly at: Placement; readonly value: Scalar; readonly other: number };
  readonly user: { readonly at: Placement; readonly value: number; readonly other: number };
  readonly extra: Readonly<Record<string, string | number | boolean>>;
}

const placement = fc.constantFrom<Placement>('absent', 'top', 'u', 'misspelled', 'both');
const claimsArb: fc.Arbitrary<Claims> = fc.record({
  tenant: fc.record({ at: placement, value: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom('2', '4')), other: fc.integer({ min: 1, max: 5 }) }),
  user: fc.record({ at: placement, value: fc.integer({ min: 1, max: 1000 }), other: fc.integer({ min: 1, max: 1000 }) }),
  extra: fc.dictionary(fc.constantFrom('role', 'region', 'plan', 'tenant', 'user', 'TenantId'), fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.boolean()), { maxKeys: 3 }),
});

/** The payload as a token carries it (and as an API key is bound to it). */
function payloadOf(c: Claims): Record<string, unknown> {
  const p: Record<string, unknown> = { ...c.extra };
  const u: Record<string, unknown> = {};
  const put = (name: string, misspelled: string, at: Placement, value: unknown, other: unknown) => {
    if (at === 'top') p[name] = value;
    if (at === 'u') u[name] = value;
    if (at === 'misspelled') p[misspelled] = value;
    // A u claim that tries to override the top-level one must lose.
    if (at === 'both') {
      p[name] = value;
      u[name] = other;
    }
  };
  put('tenant_id', 'tenantId', c.tenant.at, c.tenant.value, c.tenant.other);
  put('id', 'userId', c.user.at, c.user.value, c.user.other);
  if (Object.keys(u).length > 0) p.u = u;
  return p;
}

/** The demo filters read the merged context: top-level claims win, `u` fills in. */
const merged = (c: Claims) => ({
  tenant: c.tenant.at === 'top' || c.tenant.at === 'both' || c.tenant.at === 'u' ? c.tenant.value : undefined,
  user: c.user.at === 'top' || c.user.at === 'both' || c.user.at === 'u' ? c.user.value : undefined,
});
/** Access policies read the payload as it came, so only a top-level tenant_id counts. */
const raw = (c: Claims) => ({ tenant: c.tenant.at === 'top' || c.tenant.at === 'both' ? c.tenant.value : undefined });

type Shape = 'direct' | 'view' | 'join' | 'compare' | 'blending';
const shapeArb = fc.constantFrom<Shape>('direct', 'view', 'join', 'compare', 'blending');
const RANGES = [['2024-02-01', '2024-04-30'], ['2025-02-01', '2025-04-30']] as const;

interface Case {
  readonly query: unknown;
  readonly multi: boolean;
  /** One hand-written statement per result, with the context's values as parameters. */
  readonly truth: readonly { readonly sql: string; readonly params: readonly unknown[] }[];
}

/** WHERE conditions and parameters for the values a context may see. */
function where(conds: readonly [string, Scalar | undefined][]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts = conds.filter(([, v]) => v !== undefined).map(([col, v]) => (params.push(v), `${col} = $${params.length}`));
  return { sql: parts.length === 0 ? 'true' : parts.join(' AND '), params };
}

/** The member names of one model for the same five query shapes over the orders table. */
interface Names {
  readonly orders: string;
  readonly view: string;
  readonly users: string;
  readonly createdAt: string;
  readonly totalAmount: string;
}
const DEMO_NAMES: Names = { orders: 'Orders', view: 'OrdersOverview', users: 'Users', createdAt: 'createdAt', totalAmount: 'totalAmount' };
const POLICED_NAMES: Names = { orders: 'orders', view: 'tenant_orders', users: 'users', createdAt: 'created_at', totalAmount: 'total_amount' };

/**
 * One query shape and its hand-written truth. `w` restricts orders `o`; `wJoin` also restricts
 * the joined users `u` (the demo filters Users by the same claims, the policed model leaves it open).
 */
function caseFor(n: Names, shape: Shape, w: ReturnType<typeof where>, wJoin: ReturnType<typeof where>): Case {
  const inRange = (from: string, to: string) => `o.created_at >= '${from}'::date AND o.created_at < '${to}'::date + 1`;
  const one = (sql: string, params = w.params) => ({ sql, params });
  const byStatus = (cube: string) => one(`SELECT o.status AS "${cube}.status", count(*) AS "${cube}.count" FROM orders o WHERE ${w.sql} GROUP BY 1`);
  const created = `${n.orders}.${n.createdAt}`;
  switch (shape) {
    case 'direct':
      return { query: { measures: [`${n.orders}.count`], dimensions: [`${n.orders}.status`] }, multi: false, truth: [byStatus(n.orders)] };
    case 'view':
      return { query: { measures: [`${n.view}.count`], dimensions: [`${n.view}.status`] }, multi: false, truth: [byStatus(n.view)] };
    case 'join':
      return {
        query: { measures: [`${n.orders}.count`], dimensions: [`${n.users}.city`] },
        multi: false,
        truth: [one(`SELECT u.city AS "${n.users}.city", count(*) AS "${n.orders}.count" FROM orders o JOIN users u ON u.id = o.user_id WHERE ${wJoin.sql} GROUP BY 1`, wJoin.params)],
      };
    case 'compare':
      return {
        query: { measures: [`${n.orders}.count`], timeDimensions: [{ dimension: created, compareDateRange: RANGES }] },
        multi: true,
        truth: RANGES.map(([from, to]) => one(`SELECT count(*) AS "${n.orders}.count" FROM orders o WHERE ${w.sql} AND ${inRange(from, to)}`)),
      };
    case 'blending': {
      const [from, to] = RANGES[0];
      const td = [{ dimension: created, granularity: 'month', dateRange: [from, to] }];
      const month = `${bucket('month', 'o.created_at')} AS "${created}.month"`;
      const range = `${w.sql} AND ${inRange(from, to)} GROUP BY 1`;
      return {
        query: [{ measures: [`${n.orders}.count`], timeDimensions: td }, { measures: [`${n.orders}.${n.totalAmount}`], timeDimensions: td }],
        multi: true,
        truth: [
          one(`SELECT ${month}, count(*) AS "${n.orders}.count" FROM orders o WHERE ${range}`),
          one(`SELECT ${month}, sum(o.amount) AS "${n.orders}.${n.totalAmount}" FROM orders o WHERE ${range}`),
        ],
      };
    }
  }
}

const demoCase = (shape: Shape, seen: { tenant?: Scalar | undefined; user?: Scalar | undefined }): Case =>
  caseFor(
    DEMO_NAMES,
    shape,
    where([['o.tenant_id', seen.tenant], ['o.user_id', seen.user]]),
    where([['o.tenant_id', seen.tenant], ['o.user_id', seen.user], ['u.tenant_id', seen.tenant], ['u.id', seen.user]]),
  );
const policedCase = (shape: Shape, tenant: Scalar | undefined): Case =>
  caseFor(POLICED_NAMES, shape, where([['o.tenant_id', tenant]]), where([['o.tenant_id', tenant]]));

let demo: OperatorApp;
let policed: OperatorApp;
const cookies = new Map<OperatorApp, string>();
let db: pg.Client;

async function admin(op: OperatorApp): Promise<void> {
  expect((await request(op.app).post('/api/auth/setup').send({ password: PASSWORD })).status).toBe(201);
  const login = await request(op.app).post('/api/auth/login').send({ password: PASSWORD });
  cookies.set(op, String(login.headers['set-cookie']?.[0]).split(';')[0] ?? '');
}

beforeAll(async () => {
  demo = await startOperatorApp({ TESSERA_AUTH: 'local' });
  policed = await startOperatorApp({ TESSERA_AUTH: 'local', CUBEJS_SCHEMA_PATH: POLICED });
  await admin(demo);
  await admin(policed);
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  await db.query(`SET TIME ZONE 'UTC'`);
});
afterAll(async () => {
  await db?.end();
  await demo?.close();
  await policed?.close();
});

/** The credential headers for a payload: a signed token, or a freshly created key bound to the same payload. */
async function credential(op: OperatorApp, payload: Record<string, unknown>, via: 'token' | 'key'): Promise<Record<string, string> | 'refused'> {
  if (via === 'token') return { authorization: signToken({ sub: 'prop', ...payload }) };
  const res = await request(op.app)
    .post('/api/keys')
    .set('Cookie', cookies.get(op) ?? '')
    .send({ name: 'prop', scopes: ['query'], securityContext: payload });
  if (Object.keys(payload).length === 0) {
    // A key needs an explicit context; the empty one is refused at creation.
    expect(res.status).toBe(400);
    return 'refused';
  }
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { 'x-api-key': String(res.body.key) };
}

/** Rows projected onto the truth's columns (blending adds `time.*` keys, time dimensions a plain key). */
function canonicalRows(rows: readonly Record<string, unknown>[], keys: readonly string[]): string[] {
  return rows.map((r) => keys.map((k) => `${k}=${canonical(r[k])}`).join(' | ')).sort();
}

async function check(op: OperatorApp, c: Case, headers: Record<string, string>, refused: boolean, label: string): Promise<'refused' | 'compared'> {
  const res = await request(op.app)
    .post('/cubejs-api/v1/load')
    .set(headers)
    .send({ query: c.query, ...(c.multi ? { queryType: 'multi' } : {}) });
  const detail = `${label} -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
  if (refused) {
    expect([res.status, res.body.code], detail).toEqual([403, 'ERR_AUTH_CLAIMS_MISSING']);
    expect(res.body.data, detail).toBeUndefined();
    return 'refused';
  }
  expect(res.status, detail).toBe(200);
  const results = (c.multi ? res.body.results : [res.body]) as { data: Record<string, unknown>[] }[];
  expect(results.length, detail).toBe(c.truth.length);
  for (const [i, spec] of c.truth.entries()) {
    const { rows, fields } = await db.query(spec.sql, spec.params as unknown[]);
    const keys = fields.map((f) => f.name);
    // count(*) over nothing is one row of 0; Tessera answers such a group the same way.
    expect(canonicalRows(results[i]?.data ?? [], keys), `${detail}\n${spec.sql}`).toEqual(canonicalRows(rows as Record<string, unknown>[], keys));
  }
  return 'compared';
}

describe('tenant isolation over random contexts, credentials and query shapes', () => {
  it('answers the demo model (row filters) with exactly the rows of the merged context, or refuses', { timeout: 240_000 }, async () => {
    const outcomes = { compared: 0, refused: 0, keyRefused: 0 };
    await fc.assert(
      fc.asyncProperty(claimsArb, shapeArb, fc.constantFrom<'token' | 'key'>('token', 'key'), async (claims, shape, via) => {
        const payload = payloadOf(claims);
        const headers = await credential(demo, payload, via);
        if (headers === 'refused') return void outcomes.keyRefused++;
        const seen = merged(claims);
        const refused = seen.tenant === undefined && seen.user === undefined;
        outcomes[await check(demo, demoCase(shape, seen), headers, refused, `${shape} via ${via} ${JSON.stringify(payload)}`)]++;
      }),
      { numRuns: RUNS },
    );
    expect(outcomes.compared, JSON.stringify(outcomes)).toBeGreaterThan(RUNS * 0.3);
    expect(outcomes.refused, JSON.stringify(outcomes)).toBeGreaterThan(0);
  });

  it('answers the policed model (policies on the raw payload, a view with its own) with exactly the rows of its top-level tenant, or refuses', { timeout: 240_000 }, async () => {
    const outcomes = { compared: 0, refused: 0, keyRefused: 0 };
    await fc.assert(
      fc.asyncProperty(claimsArb, shapeArb, fc.constantFrom<'token' | 'key'>('token', 'key'), async (claims, shape, via) => {
        const payload = payloadOf(claims);
        const headers = await credential(policed, payload, via);
        if (headers === 'refused') return void outcomes.keyRefused++;
        const { tenant } = raw(claims);
        outcomes[await check(policed, policedCase(shape, tenant), headers, tenant === undefined, `${shape} via ${via} ${JSON.stringify(payload)}`)]++;
      }),
      { numRuns: RUNS },
    );
    expect(outcomes.compared, JSON.stringify(outcomes)).toBeGreaterThan(RUNS * 0.2);
    expect(outcomes.refused, JSON.stringify(outcomes)).toBeGreaterThan(0);
  });
});
