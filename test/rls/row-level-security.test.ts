/**
 * Row-level security as a second line, against the real PostgreSQL: a model
 * that forgets its tenant filter still returns only the caller's tenant.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRowLevelSecurity } from '../../src/db/rls/check-row-level-security.js';
import { rlsSqlDraft } from '../../src/db/rls/rls-sql-draft.js';
import { loadModel } from '../../src/schema/load-model.js';
import { runTessera } from '../support/run-tessera.js';
import { createTestApp, REPO_ROOT, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const SCHEMA = 'tessera_rls_test';

/** Roles are cluster-wide, so the name carries the test database's name (parallel runs use other databases). */
const roleName = (): string => `tessera_rls_${new URL(testDatabaseUrl()).pathname.slice(1).replace(/\W/g, '_')}`.slice(0, 60);

/** A model written in snake_case with bare columns and no tenant filter at all: the model mistake RLS must catch. */
const UNFILTERED_MODEL = (table: string) => `
cube('rls_orders', {
  sql_table: '${table}',
  measures: { count: { type: 'count' }, total_amount: { sql: 'amount', type: 'sum' } },
  dimensions: {
    id: { sql: 'id', type: 'number', primary_key: true, public: true },
    tenant_id: { sql: 'tenant_id', type: 'number' },
  },
});
`;

function modelDir(source: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-rls-model-'));
  writeFileSync(path.join(dir, 'rls_orders.js'), source);
  return dir;
}

const tenantToken = (tenant: number | undefined) =>
  signToken({ sub: `rls-user-${tenant ?? 'none'}`, ...(tenant === undefined ? {} : { tenant_id: tenant }) });

const load = (app: TestApp, token: string, query: object) =>
  request(app.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });

describe('row-level security (TESSERA_DB_RLS=on)', () => {
  let admin: pg.Client;
  const role = roleName();
  const apps: TestApp[] = [];
  let protectedModel: string;
  let unprotectedModel: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    const r = admin.escapeIdentifier(role);
    await admin.query(`
      drop schema if exists ${SCHEMA} cascade;
      do $$ begin
        if not exists (select 1 from pg_roles where rolname = ${admin.escapeLiteral(role)}) then
          create role ${r} nologin nosuperuser nobypassrls;
        end if;
      end $$;
      create schema ${SCHEMA};
      grant usage on schema ${SCHEMA} to ${r};
      create table ${SCHEMA}.orders (id int primary key, tenant_id int not null, amount numeric(10,2) not null);
      insert into ${SCHEMA}.orders select g, 1 + g % 3, g * 1.5 from generate_series(1, 300) g;
      grant select on ${SCHEMA}.orders to ${r};
      alter table ${SCHEMA}.orders enable row level security;
      create policy tenant_rows on ${SCHEMA}.orders for select to ${r}
        using (tenant_id = (current_setting('request.jwt.claims', true)::json->>'tenant_id')::int);
      create table ${SCHEMA}.open_orders (id int primary key, tenant_id int not null, amount numeric(10,2) not null);
      insert into ${SCHEMA}.open_orders select g, 1 + g % 3, g from generate_series(1, 30) g;
      grant select on ${SCHEMA}.open_orders to ${r};
    `);
    protectedModel = modelDir(UNFILTERED_MODEL(`${SCHEMA}.orders`));
    unprotectedModel = modelDir(UNFILTERED_MODEL(`${SCHEMA}.open_orders`));
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await admin.query(`drop schema if exists ${SCHEMA} cascade`);
    await admin.end();
  });

  async function app(env: Record<string, string>, schemaPath: string): Promise<TestApp> {
    const t = await createTestApp({ env, schemaPath });
    apps.push(t);
    return t;
  }

  const truth = async (table: string, tenant: number) =>
    (await admin.query(`select count(*)::int as n, sum(amount)::text as total from ${SCHEMA}.${table} where tenant_id = $1`, [tenant])).rows[0] as { n: number; total: string };

  it('returns only the caller tenant rows from a cube that has no tenant filter', async () => {
    const t = await app({ TESSERA_DB_RLS: 'on', TESSERA_DB_RLS_ROLE: role }, protectedModel);
    const res = await load(t, tenantToken(2), { measures: ['rls_orders.count', 'rls_orders.total_amount'], dimensions: ['rls_orders.tenant_id'] });
    expect(res.status).toBe(200);
    const expected = await truth('orders', 2);
    expect(res.body.data).toEqual([{ 'rls_orders.tenant_id': 2, 'rls_orders.count': String(expected.n), 'rls_orders.total_amount': expected.total }]);
  });

  it('the same model with row-level security off leaks every tenant (the mistake the second line catches)', async () => {
    const t = await app({}, protectedModel);
    const res = await load(t, tenantToken(2), { measures: ['rls_orders.count'], dimensions: ['rls_orders.tenant_id'] });
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: Record<string, unknown>) => r['rls_orders.tenant_id']).sort()).toEqual([1, 2, 3]);
  });

  it('a caller without the claim reads no rows, and ungrouped row reads and totals are filtered too', async () => {
    const t = await app({ TESSERA_DB_RLS: 'on', TESSERA_DB_RLS_ROLE: role }, protectedModel);
    const none = await load(t, tenantToken(undefined), { measures: ['rls_orders.count'] });
    expect(none.status).toBe(200);
    expect(none.body.data).toEqual([{ 'rls_orders.count': '0' }]);

    const rows = await load(t, tenantToken(3), { dimensions: ['rls_orders.id', 'rls_orders.tenant_id'], ungrouped: true, total: true, limit: 5 });
    expect(rows.status).toBe(200);
    expect(rows.body.total).toBe((await truth('orders', 3)).n);
    expect(new Set(rows.body.data.map((r: Record<string, unknown>) => r['rls_orders.tenant_id']))).toEqual(new Set([3]));
  });

  it('for any tenant claim and any query shape over the unfiltered cube, no row of another tenant comes back', async () => {
    const t = await app({ TESSERA_DB_RLS: 'on', TESSERA_DB_RLS_ROLE: role }, protectedModel);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(undefined)),
        fc.boolean(),
        fc.integer({ min: 0, max: 400 }),
        async (tenant, ungrouped, idAbove) => {
          const query = ungrouped
            ? { dimensions: ['rls_orders.id', 'rls_orders.tenant_id'], ungrouped: true, filters: [{ member: 'rls_orders.id', operator: 'gt', values: [String(idAbove)] }], limit: 1000 }
            : { measures: ['rls_orders.count'], dimensions: ['rls_orders.tenant_id'], filters: [{ member: 'rls_orders.id', operator: 'gt', values: [String(idAbove)] }] };
          const res = await load(t, tenantToken(tenant), query);
          expect(res.status).toBe(200);
          const rows = res.body.data as Record<string, unknown>[];
          for (const row of rows) expect(row['rls_orders.tenant_id']).toBe(tenant);
          const { rows: [expected] } = await admin.query(`select count(*)::int as n from ${SCHEMA}.orders where tenant_id = $1 and id > $2`, [tenant ?? null, idAbove]);
          const seen = ungrouped ? rows.length : Number(rows[0]?.['rls_orders.count'] ?? 0);
          expect(seen).toBe(expected.n);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a claim value cannot escape its bound parameter', async () => {
    const t = await app({ TESSERA_DB_RLS: 'on', TESSERA_DB_RLS_ROLE: role }, protectedModel);
    const res = await load(t, signToken({ sub: 'x', tenant_id: "2'); reset role; --" }), { measures: ['rls_orders.count'] });
    // The policy casts the claim to int, which fails in the database as a 4xx; no row is read.
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(JSON.stringify(res.body)).not.toContain('reset role');
  });

  it('start-up checks pass for a protected model and name the table, or the role, otherwise', async () => {
    const t = await app({}, protectedModel);
    expect(await checkRowLevelSecurity(t.deps.db.knex, await loadModel(protectedModel), role)).toEqual([]);
    const open = await checkRowLevelSecurity(t.deps.db.knex, await loadModel(unprotectedModel), role);
    expect(open.map((p) => p.message)).toEqual([`table ${SCHEMA}.open_orders does not have row-level security enabled`]);
    const superuser = await checkRowLevelSecurity(t.deps.db.knex, await loadModel(protectedModel), 'postgres');
    expect(superuser.map((p) => p.subject)).toContain('role postgres');
    expect(superuser.some((p) => /superuser/.test(p.message))).toBe(true);
    const missing = await checkRowLevelSecurity(t.deps.db.knex, await loadModel(protectedModel), 'no_such_role_xyz');
    expect(missing).toEqual([{ subject: 'role no_such_role_xyz', message: expect.stringContaining('does not exist') }]);
  });

  it('refuses to start in production over a table without row-level security, with one line naming it', async () => {
    const run = runTessera(['serve', '--port', '0', '--model', unprotectedModel], {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      DATABASE_URL: testDatabaseUrl(),
      CUBEJS_API_SECRET: TEST_SECRET,
      TESSERA_DB_RLS: 'on',
      TESSERA_DB_RLS_ROLE: role,
      LOG_LEVEL: 'silent',
    });
    const code = await run.exited;
    const stderr = run.stderr();
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `tessera: row-level security: table ${SCHEMA}.open_orders does not have row-level security enabled; refusing to start (NODE_ENV=production)`,
    ]);
  });

  it('in dev starts anyway, warning with the same line', async () => {
    const run = runTessera(['serve', '--port', '0', '--host', '127.0.0.1', '--model', unprotectedModel], {
      NODE_ENV: 'test',
      DATABASE_URL: testDatabaseUrl(),
      CUBEJS_API_SECRET: TEST_SECRET,
      TESSERA_DB_RLS: 'on',
      TESSERA_DB_RLS_ROLE: role,
      LOG_LEVEL: 'silent',
    });
    try {
      await run.waitFor(/listening on/);
      expect(run.stderr()).toContain(`tessera: warning: row-level security: table ${SCHEMA}.open_orders does not have row-level security enabled`);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('tessera rls sql drafts a policy that works when a human applies it', async () => {
    const draftModel = modelDir(`
cube('DraftOrders', {
  sql: \`SELECT * FROM ${SCHEMA}.draft_orders WHERE \${SECURITY_CONTEXT.tenant_id.filter('tenant_id')}\`,
  measures: { count: { type: 'count' } },
});`);
    const draftRole = `${role}_d`.slice(0, 63);
    await admin.query(`
      create table ${SCHEMA}.draft_orders (id int primary key, tenant_id int not null);
      insert into ${SCHEMA}.draft_orders select g, 1 + g % 4 from generate_series(1, 40) g;
      do $$ begin
        if exists (select 1 from pg_roles where rolname = ${admin.escapeLiteral(draftRole)}) then
          execute 'drop owned by ${draftRole}'; execute 'drop role ${draftRole}';
        end if;
      end $$;`);
    const draft = rlsSqlDraft(await loadModel(draftModel), { role: draftRole, columnTypes: new Map([['draft_orders.tenant_id', 'integer']]) });
    expect(draft).toContain(`CREATE ROLE "${draftRole}" NOLOGIN NOSUPERUSER NOBYPASSRLS`);
    expect(draft).toContain(`ALTER TABLE "${SCHEMA}"."draft_orders" ENABLE ROW LEVEL SECURITY;`);
    expect(draft).toContain(`"tenant_id" = (current_setting('request.jwt.claims', true)::json ->> 'tenant_id')::integer`);

    await admin.query(draft);
    try {
      await admin.query('begin');
      await admin.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [draftRole, JSON.stringify({ tenant_id: 3 })]);
      const seen = await admin.query(`select count(*)::int as n, count(distinct tenant_id)::int as tenants from ${SCHEMA}.draft_orders`);
      expect(seen.rows[0]).toEqual({ n: 10, tenants: 1 });
    } finally {
      await admin.query('rollback');
      await admin.query(`drop table ${SCHEMA}.draft_orders; drop owned by ${admin.escapeIdentifier(draftRole)}; drop role ${admin.escapeIdentifier(draftRole)}`);
    }
  });

  it('the demo model draft covers every demo table and writes the tenant and user equalities of Orders', async () => {
    const draft = rlsSqlDraft(await loadModel(path.join(REPO_ROOT, 'schema')), { role: 'tessera_query' });
    for (const table of ['orders', 'users', 'products', 'tenants']) {
      expect(draft).toContain(`ALTER TABLE "tessera_demo"."${table}" ENABLE ROW LEVEL SECURITY;`);
    }
    expect(draft).toMatch(/ON "tessera_demo"."orders" FOR SELECT TO "tessera_query"\n\s+USING \("user_id" = .*'id'\)\n\s+AND "tenant_id" = .*'tenant_id'\)\);/);
  });
});
