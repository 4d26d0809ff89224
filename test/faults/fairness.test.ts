/**
 * One security context flooding the pool with heavy statements does not keep
 * another context's cheap query waiting longer than one heavy statement, and
 * a flood past the per-context queue is refused with 429 and Retry-After.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';
import { openPgActivity, type PgActivity } from './pg-activity.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** One heavy statement sleeps this long in PostgreSQL (cube SlowFair). */
const HEAVY_MS = 1500;
const heavy = JSON.stringify({ measures: ['SlowFair.count'] });
const cheap = JSON.stringify({ measures: ['Fast.count'] });

const send = (t: TestApp, query: string, user: number): Promise<request.Response> =>
  request(t.app).get('/cubejs-api/v1/load').query({ query }).set('Authorization', userToken(user)).then((r) => r);

describe('fair use of the pool between security contexts', () => {
  let t: TestApp;
  let activity: PgActivity;
  beforeAll(async () => {
    t = await createTestApp({
      schemaPath: path.join(here, 'model'),
      env: {
        // Identical statements would be coalesced by the result cache; fairness is about the pool.
        TESSERA_CACHE: 'false',
        TESSERA_DB_POOL_MAX: '4',
        TESSERA_DB_TENANT_CONCURRENCY: '2',
        TESSERA_DB_QUEUE_DEPTH: '200',
        TESSERA_DB_STATEMENT_TIMEOUT_MS: '30000',
        TESSERA_DB_CONNECTION_TIMEOUT_MS: '60000',
      },
    });
    activity = await openPgActivity();
  });
  afterAll(async () => {
    await activity.close();
    await t.close();
  });

  it("answers tenant B's cheap query within one heavy query's time while tenant A floods", async () => {
    // User 1 is tenant 1; user 2 is tenant 2 (a different security context).
    const flood = Array.from({ length: 10 }, () => send(t, heavy, 1));
    await activity.waitFor('pg_sleep(1.5)', (n) => n >= 2);
    const started = performance.now();
    const res = await send(t, cheap, 2);
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ 'Fast.count': '1' }]);
    expect(ms).toBeLessThan(HEAVY_MS);
    // Tenant A never holds more than its two slots.
    expect(await activity.count('pg_sleep(1.5)')).toBeLessThanOrEqual(2);
    const statuses = (await Promise.all(flood.slice(0, 4))).map((r) => r.status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    await Promise.all(flood);
  }, 120_000);
});

describe('the per-context wait queue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      schemaPath: path.join(here, 'model'),
      env: { TESSERA_CACHE: 'false', TESSERA_DB_POOL_MAX: '4', TESSERA_DB_TENANT_CONCURRENCY: '1', TESSERA_DB_QUEUE_DEPTH: '2', TESSERA_DB_CONNECTION_TIMEOUT_MS: '30000' },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses statements past the queue depth with 429 ERR_RATE_LIMITED and Retry-After, and serves the rest', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(t, heavy, 3)));
    const refused = answers.filter((r) => r.status === 429);
    const served = answers.filter((r) => r.status === 200);
    // One runs, two wait, three are refused.
    expect(served).toHaveLength(3);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.body).toEqual({ error: 'Too many queries are running or waiting for this security context; retry shortly.', code: 'ERR_RATE_LIMITED' });
      expect(r.headers['retry-after']).toBe('1');
    }
  }, 60_000);
});
