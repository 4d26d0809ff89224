/**
 * Class: a row filter never silently vanishes. A context with none of the claims a cube's
 * `.filter()` calls read is refused (403, naming the cube and the claims); one vanishing
 * filter inside a present one is Cube's idiom and stays; `unsafeValue()` and policy conditions
 * on a missing claim refuse or deny. Dev mode and production behave alike; `missingClaims:
 * matchAll` is the one switch back to Cube. Attacks are written as an outsider would try them.
 */
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, REPO_ROOT, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';
import jwt from 'jsonwebtoken';

const CLAIMS_MODEL = path.join(REPO_ROOT, 'test', 'security', 'fixtures', 'claims');
const ORDERS_REFUSED = {
  error: 'Access denied: cube Orders filters its rows by the security context claims id, tenant_id, and this security context has none of them',
  code: 'ERR_AUTH_CLAIMS_MISSING',
};

let demo: TestApp;
let claims: TestApp;
let db: pg.Client;

beforeAll(async () => {
  demo = await createTestApp();
  claims = await createTestApp({ schemaPath: CLAIMS_MODEL });
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await demo?.close();
  await claims?.close();
});

const count = async (sql: string) => String((await db.query(sql)).rows[0]?.n);
const load = (app: TestApp, q: object, token?: string) => {
  const r = request(app.app).post('/cubejs-api/v1/load');
  return (token === undefined ? r : r.set('Authorization', token)).send({ query: q });
};
/** A token whose payload is exactly this JSON text, so `__proto__` arrives as an own key, as JSON.parse makes it. */
const rawJsonToken = (json: string) => jwt.sign(json, TEST_SECRET, { algorithm: 'HS256' });
const exp = () => Math.floor(Date.now() / 1000) + 600;

describe('a token without the claims a cube filters by', () => {
  it.each([
    ['no claims at all', { sub: 'someone' }],
    ['misspelled claims', { sub: 'x', tenantId: 2, userId: 42 }],
    ['claims in another case', { sub: 'x', TENANT_ID: 2, ID: 42 }],
    ['claims nested under an unrelated object', { sub: 'x', claims: { tenant_id: 2, id: 42 } }],
  ])('is refused with 403 naming the cube and the claims: %s', async (_name, payload) => {
    const res = await load(demo, { measures: ['Orders.count'] }, signToken(payload));
    expect([res.status, res.body]).toEqual([403, ORDERS_REFUSED]);
  });

  it('is refused when the claims arrive only under __proto__', async () => {
    const res = await load(demo, { measures: ['Orders.count'] }, rawJsonToken(`{"sub":"x","exp":${exp()},"__proto__":{"tenant_id":2,"id":42}}`));
    expect([res.status, res.body]).toEqual([
      403,
      { error: 'The token payload must not contain a __proto__ key', code: 'ERR_AUTH_CONTEXT_INVALID' },
    ]);
  });

  it('is refused on /sql and /dry-run too, so the statement is never shown', async () => {
    for (const route of ['/cubejs-api/v1/sql', '/cubejs-api/v1/dry-run']) {
      const res = await request(demo.app).post(route).set('Authorization', signToken({ sub: 'x' })).send({ query: { measures: ['Orders.count'] } });
      expect([res.status, res.body.code], route).toEqual([403, 'ERR_AUTH_CLAIMS_MISSING']);
    }
  });

  it('is refused for a cube reached only through a view', async () => {
    const res = await load(demo, { measures: ['OrdersOverview.count'] }, signToken({ sub: 'x', tenantId: 1 }));
    expect([res.status, res.body.code]).toEqual([403, 'ERR_AUTH_CLAIMS_MISSING']);
  });

  it('still answers for a cube without row filters', async () => {
    const res = await load(demo, { measures: ['Products.count'] }, signToken({ sub: 'x' }));
    expect(res.body.data).toEqual([{ 'Products.count': await count('SELECT count(*) AS n FROM products') }]);
  });
});

describe('a filter that vanishes inside one that applies (the optional user inside a tenant)', () => {
  it('answers with the tenant rows when only tenant_id is present', async () => {
    const res = await load(demo, { measures: ['Orders.count'] }, signToken({ sub: 'x', tenant_id: 4 }));
    expect(res.body.data).toEqual([{ 'Orders.count': await count('SELECT count(*) AS n FROM orders WHERE tenant_id = 4') }]);
  });

  it('answers with the user rows when only the user id is present', async () => {
    const res = await load(demo, { measures: ['Orders.count'] }, signToken({ sub: 'x', u: { id: 42 } }));
    expect(res.body.data).toEqual([{ 'Orders.count': await count('SELECT count(*) AS n FROM orders WHERE user_id = 42') }]);
  });

  it('keeps both filters when both claims are present, in a model written apart from the demo', async () => {
    const both = await load(claims, { measures: ['tenant_orders.count'] }, signToken({ sub: 'x', tenant_id: 2, user_id: 42 }));
    expect(both.body.data).toEqual([{ 'tenant_orders.count': await count('SELECT count(*) AS n FROM orders WHERE tenant_id = 2 AND user_id = 42') }]);
    const neither = await load(claims, { measures: ['tenant_orders.count'] }, signToken({ sub: 'x', tenant: 2, user: 42 }));
    expect([neither.status, neither.body.error]).toEqual([
      403,
      'Access denied: cube tenant_orders filters its rows by the security context claims tenant_id, user_id, and this security context has none of them',
    ]);
  });
});

describe('model JavaScript and policy conditions on a missing claim', () => {
  it('refuses unsafeValue() of a missing claim instead of deciding on undefined', async () => {
    const res = await load(claims, { measures: ['regional_orders.count'] }, signToken({ sub: 'x' }));
    expect([res.status, res.body]).toEqual([
      403,
      { error: 'Access denied: the security context has no claim region, which the model reads with unsafeValue()', code: 'ERR_AUTH_CLAIMS_MISSING' },
    ]);
    const eu = await load(claims, { measures: ['regional_orders.count'] }, signToken({ sub: 'x', region: 'eu' }));
    expect(eu.body.data).toEqual([{ 'regional_orders.count': await count('SELECT count(*) AS n FROM orders WHERE tenant_id IN (1, 2)') }]);
  });

  it('does not let a negated condition on a missing claim grant access', async () => {
    const missing = await load(claims, { measures: ['staff_orders.count'] }, signToken({ sub: 'contractor-without-the-flag' }));
    expect([missing.status, missing.body.error]).toEqual([400, 'Unknown member: staff_orders.count']);
    const staff = await load(claims, { measures: ['staff_orders.count'] }, signToken({ sub: 'staff', is_contractor: false }));
    expect(staff.body.data).toEqual([{ 'staff_orders.count': await count('SELECT count(*) AS n FROM orders') }]);
  });
});

describe('dev mode', () => {
  it('answers a tokenless request with the rows of devSecurityContext', async () => {
    const dev = await createTestApp({ env: { CUBEJS_API_SECRET: undefined, TESSERA_DEV_SECURITY_CONTEXT: '{"tenant_id": 2, "u": {"id": 42}}' } });
    try {
      const res = await load(dev, { measures: ['Orders.count'] });
      expect(res.body.data).toEqual([{ 'Orders.count': await count('SELECT count(*) AS n FROM orders WHERE tenant_id = 2 AND user_id = 42') }]);
    } finally {
      await dev.close();
    }
  });

  it('refuses a tokenless request exactly like production when no devSecurityContext is set', async () => {
    const dev = await createTestApp({ env: { CUBEJS_API_SECRET: undefined } });
    try {
      const res = await load(dev, { measures: ['Orders.count'] });
      expect([res.status, res.body]).toEqual([403, ORDERS_REFUSED]);
      expect((await load(dev, { measures: ['Products.count'] })).status).toBe(200);
    } finally {
      await dev.close();
    }
  });
});

describe('the missingClaims switch', () => {
  it("restores Cube's 1 = 1 when set to matchAll, and warns at start", async () => {
    const lines: string[] = [];
    const open = await createTestApp({
      env: { TESSERA_MISSING_CLAIMS: 'matchAll', LOG_LEVEL: 'warn' },
      logDestination: { write: (line) => void lines.push(line) },
    });
    try {
      const res = await load(open, { measures: ['Orders.count'] }, signToken({ sub: 'x' }));
      expect(res.body.data).toEqual([{ 'Orders.count': await count('SELECT count(*) AS n FROM orders') }]);
      expect(lines.join('\n')).toContain('missingClaims is matchAll');
    } finally {
      await open.close();
    }
  });

  it('refuses an unknown value at start', async () => {
    await expect(createTestApp({ env: { TESSERA_MISSING_CLAIMS: 'allow' } })).rejects.toThrow(/TESSERA_MISSING_CLAIMS.*refuse or matchAll/);
  });
});

describe('securityContextSchema', () => {
  it('stops start-up when the model filters by a claim the schema does not declare', async () => {
    const source = `import { z } from 'zod';\nexport default { securityContextSchema: z.object({ tenantId: z.number(), id: z.number().optional() }) };`;
    await expect(createTestApp({ configFile: { name: 'tessera.config.mjs', source } })).rejects.toThrow(
      /securityContextSchema: cube \w+ filters its rows by the claim tenant_id, which the schema does not declare/,
    );
  });

  it('refuses a token missing a claim the schema marks required, before any query runs', async () => {
    const source = `import { z } from 'zod';\nexport default { securityContextSchema: z.object({ tenant_id: z.number(), id: z.number().optional() }) };`;
    const typed = await createTestApp({ configFile: { name: 'tessera.config.mjs', source } });
    try {
      const res = await load(typed, { measures: ['Products.count'] }, signToken({ sub: 'x', u: { id: 42 } }));
      expect([res.status, res.body.code]).toEqual([403, 'ERR_AUTH_CONTEXT_INVALID']);
      expect(res.body.error).toMatch(/^Security context claim tenant_id is invalid/);
    } finally {
      await typed.close();
    }
  });
});
