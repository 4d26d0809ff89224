/**
 * POST /api/explain: an admin sees which policies, member rules and row filters
 * apply to a security context and why, and no data is read.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, REPO_ROOT, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const PASSWORD = 'Explain pass 1!';
const CONFIG = `export default { contextToGroups: ({ securityContext }) => securityContext.roles ?? [] };`;

describe('POST /api/explain', () => {
  let t: TestApp;
  let cookie: string;
  const schema = `op_explain_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    t = await createTestApp({
      env: { TESSERA_AUTH: 'password', TESSERA_PASSWORD: PASSWORD, TESSERA_META_SCHEMA: schema, TESSERA_ARGON2_MEMORY_KIB: '1024' },
      schemaPath: path.join(REPO_ROOT, 'test', 'policy', 'fixtures', 'schema'),
      configFile: { name: 'tessera.config.mjs', source: CONFIG },
    });
    const login = await request(t.app).post('/api/auth/login').send({ password: PASSWORD });
    expect(login.status).toBe(200);
    cookie = String(login.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  });
  afterAll(async () => {
    await t.deps.db.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await t.close();
  });

  const explain = (body: object, headers: Record<string, string> = { cookie }) => request(t.app).post('/api/explain').set(headers).send(body);
  const dbQueries = async () => Number(/^tessera_db_query_duration_seconds_count\{outcome="ok"\} (\d+)/m.exec((await request(t.app).get('/metrics')).text)?.[1] ?? 0);

  it('is refused without an admin session, also to a valid query token', async () => {
    const none = await explain({ query: { measures: ['Orders.count'] } }, {});
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('ERR_AUTH_SESSION_REQUIRED');
    const withToken = await explain({ query: { measures: ['Orders.count'] } }, { authorization: signToken({ sub: 'x', roles: ['admin'] }) });
    expect(withToken.status).toBe(401);
  });

  it('names the applying policy, its member rule and the row filter it adds for an analyst of tenant 2, reading no rows', async () => {
    const before = await dbQueries();
    const res = await explain({ query: { measures: ['Orders.count'], dimensions: ['Orders.status'] }, securityContext: { sub: 'ann', roles: ['analyst'], tenant_id: 2 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      decision: 'allow',
      groups: ['analyst'],
      queries: [
        {
          cubes: ['Orders'],
          members: ['Orders.count', 'Orders.status'],
          policies: [{ cube: 'Orders', index: 0, groups: ['analyst'], grants: 'Orders.count, Orders.totalAmount, Orders.status, Orders.createdAt, Orders.tenantId', rows: 'rows matching its filters' }],
        },
      ],
    });
    // The policy's row filter, whether the policy stage attaches it per cube or adds it to the query.
    const added = JSON.stringify([res.body.queries[0].rowFilters, res.body.queries[0].addedFilters]);
    expect(added).toContain(JSON.stringify({ member: 'Orders.tenantId', operator: 'equals', values: ['2'] }));
    expect(res.body.queries[0].sql).toMatch(/\$1/);
    expect(res.body).not.toHaveProperty('data');
    expect(await dbQueries()).toBe(before);
  });

  it('explains a refusal by its code: support may not read totalAmount', async () => {
    const res = await explain({ query: { measures: ['Orders.totalAmount'] }, securityContext: { roles: ['support'], user_id: 42 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: 'deny', code: 'ERR_QUERY_UNKNOWN_MEMBER', groups: ['support'], queries: [] });
  });

  it('an admin group sees the allowAll policy and no row filter', async () => {
    const res = await explain({ query: { measures: ['Orders.count'] }, securityContext: { roles: ['admin'] } });
    expect(res.body.queries[0].policies).toEqual([{ cube: 'Orders', index: 2, groups: ['admin'], grants: 'all members', rows: 'all rows (allowAll)' }]);
    expect(res.body.queries[0].rowFilters).toEqual({});
    expect(res.body.queries[0].addedFilters).toEqual([]);
  });
});
