/**
 * A COMPILE_CONTEXT model served over HTTP through the real Cube router: each tenant's
 * requests are answered by the model compiled for its own context.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryPolicies } from '../../src/policy/create-query-policies.js';
import { createModelProvider } from '../../src/schema/model-provider.js';
import type { Model } from '../../src/schema/model.js';
import { createCubeRouter } from '../../src/server/cube-router.js';
import { createErrorHandler } from '../../src/server/error-handler.js';
import { perContextRouter } from '../../src/server/per-context-router.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models', 'compile-context');

let base: TestApp;
let db: pg.Client;
let app: express.Express;
const compiled: Model[] = [];

beforeAll(async () => {
  base = await createTestApp({ schemaPath: FIXTURE });
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  const provider = await createModelProvider(FIXTURE, { contextToAppId: ({ securityContext }) => `tenant_${String(securityContext.tenant_id)}` });
  // What create-app does when the model reads COMPILE_CONTEXT: one router per compiled model.
  const routerFor = (model: Model) => {
    compiled.push(model);
    const deps = Object.freeze({ ...base.deps, model });
    const policies = createQueryPolicies(deps.config, model);
    return createCubeRouter(deps, { policies, visibleMembers: policies.visibleMembers });
  };
  app = express();
  app.use(express.json());
  app.use('/cubejs-api/v1', perContextRouter(base.deps, provider.modelFor, routerFor));
  app.use(createErrorHandler(base.logger));
});
afterAll(async () => {
  await db.end();
  await base.close();
});

describe('per-tenant compiled models over HTTP', () => {
  it("answers each tenant from its own compiled model, with its own members in /meta", async () => {
    for (const [tenant, plan] of [[1, 'free'], [2, 'enterprise'], [1, 'free']] as const) {
      const token = signToken({ tenant_id: tenant, plan });
      const res = await request(app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query: { measures: ['orders.count'], dimensions: ['orders.tenant_label'] } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM orders WHERE tenant_id = $1', [tenant]);
      expect(res.body.data).toEqual([{ 'orders.tenant_label': `tenant_${tenant}`, 'orders.count': rows[0]!.n }]);
      const meta = await request(app).get('/cubejs-api/v1/meta').set('Authorization', token);
      const names = meta.body.cubes[0].measures.map((m: { name: string }) => m.name);
      expect(names.includes('orders.average_amount')).toBe(plan === 'enterprise');
    }
    // Tenant 1's second visit reused its compiled model and router.
    expect(compiled).toHaveLength(2);
  });

  it('refuses a member another tenant has but this one does not', async () => {
    const res = await request(app)
      .post('/cubejs-api/v1/load')
      .set('Authorization', signToken({ tenant_id: 1, plan: 'free' }))
      .send({ query: { measures: ['orders.average_amount'] } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_QUERY_UNKNOWN_MEMBER');
  });

  it('rejects an unauthenticated request before any model is compiled, and a context that cannot compile', async () => {
    const before = compiled.length;
    expect((await request(app).post('/cubejs-api/v1/load').send({ query: { measures: ['orders.count'] } })).status).toBe(403);
    const bad = await request(app)
      .post('/cubejs-api/v1/load')
      .set('Authorization', signToken({ tenant_id: '1 OR 1 = 1' }))
      .send({ query: { measures: ['orders.count'] } });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect(JSON.stringify(bad.body)).not.toContain('OR 1 = 1');
    expect(compiled.length).toBe(before);
  });
});

describe("Tessera's own app with a COMPILE_CONTEXT model and contextToAppId in the config file", () => {
  it('answers each tenant from its own compiled model', async () => {
    const t = await createTestApp({
      schemaPath: FIXTURE,
      configFile: { name: 'tessera.config.mjs', source: 'export default { contextToAppId: ({ securityContext }) => `T${securityContext.tenant_id}` };' },
    });
    try {
      expect(t.deps.modelFor).toBeDefined();
      for (const tenant of [3, 4]) {
        const res = await request(t.app)
          .post('/cubejs-api/v1/load')
          .set('Authorization', signToken({ tenant_id: tenant, plan: 'free' }))
          .send({ query: { measures: ['orders.count'], dimensions: ['orders.tenant_label'] } });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM orders WHERE tenant_id = $1', [tenant]);
        expect(res.body.data).toEqual([{ 'orders.tenant_label': `tenant_${tenant}`, 'orders.count': rows[0]!.n }]);
      }
    } finally {
      await t.close();
    }
  });

  it('leaves a model without COMPILE_CONTEXT on the one shared model', async () => {
    const t = await createTestApp();
    try {
      expect(t.deps.modelFor).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
