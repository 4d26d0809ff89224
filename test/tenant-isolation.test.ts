/**
 * Tenant isolation: tokens of two tenants, two users each (plus tenant-wide
 * tokens), over every endpoint. Every row that comes back belongs to the
 * caller, and every total equals what hand-written SQL counts for the caller.
 */
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testDatabaseUrl, type TestApp } from './support/test-app.js';
import { signToken, tenantOfUser, userToken } from './support/tokens.js';

/** Users 42 and 47 are in tenant 2; 43 and 48 in tenant 3. */
const USERS = [42, 47, 43, 48] as const;
const TENANTS = [2, 3] as const;

interface Caller {
  readonly name: string;
  readonly token: string;
  readonly tenant: number;
  /** Undefined for a tenant-wide token. */
  readonly user?: number | undefined;
}

const CALLERS: readonly Caller[] = [
  ...USERS.map((user) => ({ name: `user ${user} of tenant ${tenantOfUser(user)}`, token: userToken(user), tenant: tenantOfUser(user), user })),
  ...TENANTS.map((tenant) => ({ name: `tenant ${tenant} as a whole`, token: signToken({ sub: `tenant-${tenant}`, tenant_id: tenant }), tenant })),
];

interface Truth {
  /** Orders per user id, for the caller's scope. */
  readonly ordersByUser: Map<number, number>;
  readonly ordersByYear: Map<string, number>;
  readonly orderItems: number;
  readonly users: number;
  readonly usersByYear: Map<string, number>;
  readonly emails: Set<string>;
  readonly profiles: Set<number>;
  readonly tenantName: string;
}

const truths = new Map<string, Truth>();
let t: TestApp;

/** Hand-written SQL for one caller's scope. */
async function groundTruth(client: pg.Client, caller: Caller): Promise<Truth> {
  const scope = caller.user === undefined ? 'tenant_id = $1' : 'tenant_id = $1 AND user_id = $2';
  const userScope = caller.user === undefined ? 'tenant_id = $1' : 'tenant_id = $1 AND id = $2';
  const params = caller.user === undefined ? [caller.tenant] : [caller.tenant, caller.user];
  const q = async (sql: string) => (await client.query(sql, params)).rows as Record<string, string | number>[];
  const byUser = await q(`SELECT user_id, count(*)::int AS n FROM tessera_demo.orders WHERE ${scope} GROUP BY 1`);
  const byYear = await q(`SELECT extract(year FROM created_at AT TIME ZONE 'UTC')::int AS y, count(*)::int AS n FROM tessera_demo.orders WHERE ${scope} GROUP BY 1`);
  const items = await q(`SELECT count(*)::int AS n FROM tessera_demo.order_items oi JOIN tessera_demo.orders o ON o.id = oi.order_id WHERE o.${scope.replaceAll(' user_id', ' o.user_id')}`);
  const users = await q(`SELECT id, email, extract(year FROM created_at AT TIME ZONE 'UTC')::int AS y FROM tessera_demo.users WHERE ${userScope}`);
  const profiles = await q(`SELECT p.user_id FROM tessera_demo.user_profiles p JOIN tessera_demo.users u ON u.id = p.user_id WHERE u.${userScope.replace(' id =', ' u.id =')}`);
  const tenant = (await client.query('SELECT name FROM tessera_demo.tenants WHERE id = $1', [caller.tenant])).rows[0] as { name: string };
  const usersByYear = new Map<string, number>();
  for (const u of users) usersByYear.set(String(u.y), (usersByYear.get(String(u.y)) ?? 0) + 1);
  return {
    ordersByUser: new Map(byUser.map((r) => [Number(r.user_id), Number(r.n)])),
    ordersByYear: new Map(byYear.map((r) => [String(r.y), Number(r.n)])),
    orderItems: Number(items[0]?.n),
    users: users.length,
    usersByYear,
    emails: new Set(users.map((u) => String(u.email))),
    profiles: new Set(profiles.map((p) => Number(p.user_id))),
    tenantName: tenant.name,
  };
}

beforeAll(async () => {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    for (const caller of CALLERS) truths.set(caller.name, await groundTruth(client, caller));
  } finally {
    await client.end();
  }
  t = await createTestApp();
});

afterAll(async () => {
  await t?.close();
});

type Row = Record<string, unknown>;
const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
const year = (value: unknown) => String(value).slice(0, 4);

/** One query and what the caller's rows must satisfy. */
interface Probe {
  readonly name: string;
  readonly query: (caller: Caller) => object;
  readonly check: (rows: readonly Row[], caller: Caller, truth: Truth) => void;
}

const PROBES: readonly Probe[] = [
  {
    name: 'orders per user',
    query: () => ({ measures: ['Orders.count'], dimensions: ['Orders.userId'] }),
    check: (rows, caller, truth) => {
      for (const row of rows) {
        const user = Number(row['Orders.userId']);
        expect(tenantOfUser(user)).toBe(caller.tenant);
        if (caller.user !== undefined) expect(user).toBe(caller.user);
        expect(Number(row['Orders.count'])).toBe(truth.ordersByUser.get(user));
      }
      expect(rows).toHaveLength(truth.ordersByUser.size);
    },
  },
  {
    name: 'orders joined to their users',
    query: () => ({ measures: ['Orders.count'], dimensions: ['Users.tenantId', 'Users.email', 'Orders.userId'] }),
    check: (rows, caller, truth) => {
      for (const row of rows) {
        expect(Number(row['Users.tenantId'])).toBe(caller.tenant);
        expect(truth.emails.has(String(row['Users.email']))).toBe(true);
      }
      expect(sum(rows.map((r) => Number(r['Orders.count'])))).toBe(sum(truth.ordersByUser.values()));
    },
  },
  {
    name: 'users',
    query: () => ({ measures: ['Users.count'], dimensions: ['Users.tenantId'] }),
    check: (rows, caller, truth) => {
      expect(rows).toEqual([{ 'Users.tenantId': caller.tenant, 'Users.count': String(truth.users) }]);
    },
  },
  {
    name: 'tenants',
    query: () => ({ dimensions: ['Tenants.name'] }),
    check: (rows, _caller, truth) => expect(rows).toEqual([{ 'Tenants.name': truth.tenantName }]),
  },
  {
    name: 'order items',
    query: () => ({ measures: ['OrderItems.count'] }),
    check: (rows, _caller, truth) => expect(rows).toEqual([{ 'OrderItems.count': String(truth.orderItems) }]),
  },
  {
    name: 'user profiles',
    query: () => ({ measures: ['UserProfiles.count'] }),
    check: (rows, _caller, truth) => expect(rows).toEqual([{ 'UserProfiles.count': String(truth.profiles.size) }]),
  },
  {
    name: 'a monthly time series over three years',
    query: () => ({
      measures: ['Orders.count'],
      timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: ['2023-01-01', '2025-12-31'] }],
    }),
    check: (rows, _caller, truth) => {
      for (const y of ['2023', '2024', '2025']) {
        const inYear = rows.filter((r) => year(r['Orders.createdAt.month']) === y);
        expect(sum(inYear.map((r) => Number(r['Orders.count'])))).toBe(truth.ordersByYear.get(y) ?? 0);
      }
    },
  },
  {
    name: 'a filter asking for another tenant user',
    query: (caller) => ({
      measures: ['Orders.count'],
      dimensions: ['Orders.userId'],
      filters: [{ member: 'Orders.userId', operator: 'equals', values: USERS.filter((u) => u !== caller.user && tenantOfUser(u) !== caller.tenant).map(String) }],
    }),
    check: (rows) => expect(rows).toEqual([]),
  },
  {
    name: 'a filter asking for another tenant',
    query: (caller) => ({
      measures: ['Users.count'],
      dimensions: ['Users.tenantId'],
      filters: [{ member: 'Users.tenantId', operator: 'notEquals', values: [String(caller.tenant)] }],
    }),
    check: (rows) => expect(rows).toEqual([]),
  },
  {
    name: 'an OR filter trying to widen the scope',
    query: () => ({
      measures: ['Orders.count'],
      dimensions: ['Orders.userId'],
      filters: [{ or: [{ member: 'Orders.userId', operator: 'set' }, { member: 'Orders.userId', operator: 'notSet' }] }],
    }),
    check: (rows, caller, truth) => {
      expect(rows.every((r) => tenantOfUser(Number(r['Orders.userId'])) === caller.tenant)).toBe(true);
      expect(sum(rows.map((r) => Number(r['Orders.count'])))).toBe(sum(truth.ordersByUser.values()));
    },
  },
];

const ENDPOINTS = ['GET /load', 'POST /load', 'GET /load?queryType=multi'] as const;

async function load(endpoint: (typeof ENDPOINTS)[number], token: string, query: object): Promise<readonly Row[]> {
  const res =
    endpoint === 'POST /load'
      ? await request(t.app).post('/cubejs-api/v1/load').set('authorization', token).send({ query })
      : await request(t.app)
          .get('/cubejs-api/v1/load')
          .query({ query: JSON.stringify(query), ...(endpoint.endsWith('multi') ? { queryType: 'multi' } : {}) })
          .set('authorization', token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = res.body as { data?: Row[]; results?: { data: Row[] }[] };
  return endpoint.endsWith('multi') ? (body.results?.[0]?.data ?? []) : (body.data ?? []);
}

describe.each(CALLERS.map((c) => [c.name, c] as const))('%s', (_, caller) => {
  const truth = () => truths.get(caller.name) as Truth;

  it.each(ENDPOINTS.flatMap((e) => PROBES.map((p) => [`${e}: ${p.name}`, e, p] as const)))('%s', async (_, endpoint, probe) => {
    probe.check(await load(endpoint, caller.token, probe.query(caller)), caller, truth());
  });

  it('compareDateRange: each range holds only the caller orders', async () => {
    const query = {
      measures: ['Orders.count'],
      timeDimensions: [
        { dimension: 'Orders.createdAt', granularity: 'year', compareDateRange: [['2023-01-01', '2023-12-31'], ['2024-01-01', '2024-12-31']] },
      ],
    };
    const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query), queryType: 'multi' }).set('authorization', caller.token);
    expect(res.status).toBe(200);
    const results = (res.body as { results: { data: Row[] }[] }).results;
    expect(results.map((r) => r.data.map((row) => [year(row['Orders.createdAt.year']), Number(row['Orders.count'])]))).toEqual([
      [['2023', truth().ordersByYear.get('2023')]],
      [['2024', truth().ordersByYear.get('2024')]],
    ]);
  });

  it('a blending query: every part holds only the caller rows', async () => {
    const query = [
      { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year' }] },
      { measures: ['Users.count'], timeDimensions: [{ dimension: 'Users.createdAt', granularity: 'year' }] },
    ];
    const res = await request(t.app).post('/cubejs-api/v1/load').set('authorization', caller.token).send({ query, queryType: 'multi' });
    expect(res.status).toBe(200);
    const [orders, users] = (res.body as { results: { data: Row[] }[] }).results;
    expect(new Map(orders?.data.map((r) => [year(r['Orders.createdAt.year']), Number(r['Orders.count'])]))).toEqual(truth().ordersByYear);
    expect(new Map(users?.data.map((r) => [year(r['Users.createdAt.year']), Number(r['Users.count'])]))).toEqual(truth().usersByYear);
  });

  it('/sql binds only the caller own ids, as parameters', async () => {
    for (const method of ['get', 'post'] as const) {
      const query = { measures: ['Orders.count'], dimensions: ['Users.city'] };
      const res =
        method === 'get'
          ? await request(t.app).get('/cubejs-api/v1/sql').query({ query: JSON.stringify(query) }).set('authorization', caller.token)
          : await request(t.app).post('/cubejs-api/v1/sql').send({ query }).set('authorization', caller.token);
      expect(res.status).toBe(200);
      const [text, params] = (res.body as { sql: { sql: [string, unknown[]] } }).sql.sql;
      const own = caller.user === undefined ? [caller.tenant] : [caller.tenant, caller.user];
      expect(new Set(params)).toEqual(new Set(own));
      expect(text).toMatch(/tenant_id = \$\d/);
      // No id appears as a literal: without placeholders, positional GROUP/ORDER BY, LIMIT and absent-claim 1 = 1, the text has no digits.
      expect(text.replace(/\$\d+/g, '').replace(/(GROUP|ORDER) BY [\d, ASCDE]+/g, '').replace(/LIMIT \d+/g, '').replaceAll('1 = 1', '')).not.toMatch(/\d/);
    }
  });

  it('/dry-run and /meta answer without any row data', async () => {
    const dry = await request(t.app)
      .get('/cubejs-api/v1/dry-run')
      .query({ query: JSON.stringify({ measures: ['Orders.count'] }) })
      .set('authorization', caller.token);
    expect(dry.status).toBe(200);
    expect(dry.body).not.toHaveProperty('data');
    const meta = await request(t.app).get('/cubejs-api/v1/meta').set('authorization', caller.token);
    expect(meta.status).toBe(200);
    const anonymous = await request(t.app).get('/cubejs-api/v1/meta').set('authorization', userToken(1));
    expect(meta.body).toEqual(anonymous.body);
  });
});

describe('isolation sanity', () => {
  it('the four users really have orders, so empty answers cannot pass by accident', () => {
    for (const user of USERS) {
      const truth = truths.get(`user ${user} of tenant ${tenantOfUser(user)}`) as Truth;
      expect(truth.ordersByUser.get(user)).toBeGreaterThan(50);
    }
  });

  it('a request without a token sees nothing', async () => {
    const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) });
    expect(res.status).toBe(403);
  });
});
