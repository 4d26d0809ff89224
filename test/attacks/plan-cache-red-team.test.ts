/**
 * Red team of the shape-keyed plan cache (src/cache/plan-cache.ts) over HTTP: each request is
 * sent to an app with the cache on and to one with it off (TESSERA_CACHE=false), and the two
 * answers must match (status, code, rows), with psql as ground truth where rows matter.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, tenantToken, truth, type Harness } from './support.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { ATTACK_MODEL } from './support.js';

let cached: Harness;
let uncached: TestApp;
beforeAll(async () => {
  cached = await openHarness();
  uncached = await createTestApp({ schemaPath: ATTACK_MODEL, env: { TESSERA_CACHE: 'false' } });
});
afterAll(async () => {
  await cached?.close();
  await uncached?.close();
});

/** POSTs a raw JSON text body (so numbers such as 1e400 reach JSON.parse as sent). */
const rawPost = (t: TestApp, token: string, body: string) =>
  request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).set('Content-Type', 'application/json').send(body);

const both = async (token: string, body: string) => {
  const a = await rawPost(cached.t, token, body);
  const b = await rawPost(uncached, token, body);
  return { a, b };
};
const same = (a: request.Response, b: request.Response) => {
  expect({ status: a.status, code: a.body.code, data: a.body.data }).toEqual({ status: b.status, code: b.body.code, data: b.body.data });
};

describe('plan cache red team: values JSON cannot represent', () => {
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: the shape (and the
  // exact-text key) of a query with 1e400 was the one of the same query with null, so the cached
  // app answered with the null query's plan (IS NULL) where validation refuses a non-finite number.
  it('refuses a filter value of 1e400 after the same query with null was cached', async () => {
    const token = tenantToken(1);
    const q = (v: string) => `{"query":{"measures":["p_orders.count"],"filters":[{"member":"p_orders.status","operator":"notEquals","values":[${v}]}]}}`;
    const qs = (v: string) => `{"query":{"measures":["p_orders.count"],"filters":[{"member":"p_orders.status","operator":"equals","values":["completed",${v}]}]}}`;
    for (const body of [q('null'), q('null'), q('null'), qs('null'), qs('null'), qs('null')]) {
      const { a, b } = await both(token, body);
      same(a, b);
      expect(a.status).toBe(200);
    }
    for (const body of [q('1e400'), q('-1e400'), qs('1e400')]) {
      const { a, b } = await both(token, body);
      expect(b.status).toBe(400);
      same(a, b);
    }
  });
});
