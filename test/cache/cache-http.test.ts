/**
 * The result cache end to end over HTTP on the real PostgreSQL: the x-tessera-cache header,
 * tenant safety (each user's rows against hand-written SQL), renewQuery / cache: 'no-cache',
 * coalescing and "Continue wait" with the official @cubejs-client/core and Tessera's client.
 * Statements reaching the database are counted by a sequence the slow cube's SQL advances.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cube from '@cubejs-client/core';
import fc from 'fast-check';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraClient } from '../../src/client/index.js';
import { listen, type Listening } from '../client/live-server.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { openStatementRuns, type StatementRuns } from './support/statement-runs.js';
import { signToken, tenantOfUser, userToken } from '../support/tokens.js';

const SLOW_MODEL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
const SEQUENCE = 'public.i14_cache_http_runs';
const slowQuery = { measures: ['slow_runs.count'], dimensions: ['slow_runs.run'] };
const slowToken = signToken({ sub: 'slow-reader' });

let admin: pg.Client;
let counter: StatementRuns;
const runs = (): Promise<number> => counter.runs();

beforeAll(async () => {
  counter = await openStatementRuns(SEQUENCE);
  admin = counter.admin;
});
afterAll(async () => {
  await counter?.close();
});

const load = (app: TestApp['app'], query: object, token: string) =>
  request(app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query) }).set('Authorization', token);

describe('the result cache over /load', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const byStatus = { measures: ['Orders.count'], dimensions: ['Orders.status'], order: { 'Orders.status': 'asc' } };
  const truth = async (user: number) =>
    (
      await admin.query('SELECT status, count(*)::text AS n FROM tessera_demo.orders WHERE user_id = $1 AND tenant_id = $2 GROUP BY 1 ORDER BY 1', [user, tenantOfUser(user)])
    ).rows.map((r: { status: string; n: string }) => ({ 'Orders.status': r.status, 'Orders.count': r.n }));

  it('says miss on the first request and hit on the same request again', async () => {
    const query = { ...byStatus, filters: [{ member: 'Orders.amount', operator: 'gt', values: ['12.5'] }] };
    const first = await load(t.app, query, userToken(42));
    const second = await load(t.app, query, userToken(42));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.headers['x-tessera-cache'], second.headers['x-tessera-cache']]).toEqual(['miss', 'hit']);
    expect(second.body.data).toEqual(first.body.data);
  });

  it('serves a repeated request its first response, byte for byte, and a differently shaped request its own', async () => {
    const query = { ...byStatus, filters: [{ member: 'Orders.amount', operator: 'gt', values: ['21.5'] }] };
    const first = await load(t.app, query, userToken(42));
    const second = await load(t.app, query, userToken(42));
    const again = await load(t.app, query, userToken(42));
    const compact = await load(t.app, { ...query, responseFormat: 'compact' }, userToken(42));
    expect([first.headers['x-tessera-cache'], second.headers['x-tessera-cache'], again.headers['x-tessera-cache'], compact.headers['x-tessera-cache']]).toEqual(['miss', 'hit', 'hit', 'hit']);
    expect(again.body.data).toEqual(first.body.data);
    // The third is the stored response of the second, byte for byte.
    expect(again.text).toBe(second.text);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    // Same statement, same cached rows, but its own shape: compact members + dataset.
    expect(compact.body.data).toMatchObject({ members: expect.any(Array), dataset: expect.any(Array) });
    expect(compact.text).not.toBe(first.text);
  });

  it("never serves one user another user's cached rows for the same query", async () => {
    const asked = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1000 }), async (a, b) => {
        fc.pre(a !== b);
        const first = await load(t.app, byStatus, userToken(a));
        asked.add(a);
        const second = await load(t.app, byStatus, userToken(b));
        // Only b's own earlier request may have left an entry b can hit.
        if (!asked.has(b)) expect(second.headers['x-tessera-cache']).toBe('miss');
        asked.add(b);
        expect(first.body.data).toEqual(await truth(a));
        expect(second.body.data).toEqual(await truth(b));
      }),
      { numRuns: 15 },
    );
  });

  it('gives the same rows to a token with the same security values but other claims', async () => {
    const query = { ...byStatus, filters: [{ member: 'Orders.amount', operator: 'gt', values: ['3.25'] }] };
    const first = await load(t.app, query, userToken(77, { extra: { name: 'first' } }));
    const second = await load(t.app, query, userToken(77, { extra: { name: 'second' } }));
    expect(second.headers['x-tessera-cache']).toBe('hit');
    expect(second.body.data).toEqual(first.body.data);
  });

  it("runs the statement again for renewQuery: true and for cache: 'no-cache'", async () => {
    const query = (v: string) => ({ ...byStatus, filters: [{ member: 'Orders.amount', operator: 'gt', values: [v] }] });
    await load(t.app, query('7.75'), userToken(42));
    await load(t.app, query('8.75'), userToken(42));
    const renewed = await load(t.app, { ...query('7.75'), renewQuery: true }, userToken(42));
    const noCache = await load(t.app, { ...query('8.75'), cache: 'no-cache' }, userToken(42));
    const cached = await load(t.app, { ...query('7.75'), renewQuery: false }, userToken(42));
    expect([renewed.status, noCache.status, cached.status]).toEqual([200, 200, 200]);
    expect([renewed.headers['x-tessera-cache'], noCache.headers['x-tessera-cache'], cached.headers['x-tessera-cache']]).toEqual(['miss', 'miss', 'hit']);
  });

  it('still rejects a renewQuery that is not a boolean', async () => {
    const res = await load(t.app, { ...byStatus, renewQuery: 'yes' }, userToken(42));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/"renewQuery" is not allowed/);
  });

  it('sends no cache header from /sql, which runs nothing', async () => {
    const res = await request(t.app).get('/cubejs-api/v1/sql').query({ query: JSON.stringify(byStatus) }).set('Authorization', userToken(42));
    expect(res.status).toBe(200);
    expect(res.headers['x-tessera-cache']).toBeUndefined();
  });
});

describe('coalescing over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ schemaPath: SLOW_MODEL, env: { TESSERA_CONTINUE_WAIT_MS: '0', TESSERA_CACHE_DEFAULT_REFRESH_SEC: '3600' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs identical concurrent requests as one statement', async () => {
    const before = await runs();
    const responses = await Promise.all(Array.from({ length: 8 }, () => load(t.app, { ...slowQuery, limit: 11 }, slowToken)));
    expect(await runs()).toBe(before + 1);
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    const outcomes = responses.map((r) => r.headers['x-tessera-cache']).sort();
    expect(outcomes).toEqual(['coalesced', 'coalesced', 'coalesced', 'coalesced', 'coalesced', 'coalesced', 'coalesced', 'miss']);
    const served = new Set(responses.map((r) => JSON.stringify(r.body.data)));
    expect(served.size).toBe(1);
  });
});

describe('Continue wait', () => {
  let t: TestApp;
  let server: Listening;
  beforeAll(async () => {
    // An hour-long default bucket: a 10 s bucket ending mid-test would rightly run the statement again.
    t = await createTestApp({ schemaPath: SLOW_MODEL, env: { TESSERA_CONTINUE_WAIT_MS: '100', TESSERA_CACHE_DEFAULT_REFRESH_SEC: '3600' } });
    server = await listen(t.app);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('answers {"error": "Continue wait"} with status 200 while the query runs on, then the result', async () => {
    const query = { ...slowQuery, limit: 21 };
    const before = await runs();
    const first = await load(t.app, query, slowToken);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ error: 'Continue wait' });
    let res = first;
    for (let poll = 0; poll < 100 && res.body.error === 'Continue wait'; poll += 1) res = await load(t.app, query, slowToken);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ 'slow_runs.count': '1', 'slow_runs.run': String(before + 1) }]);
    expect(await runs()).toBe(before + 1);
  });

  it('lets a renewQuery retry take the result its own first request started', async () => {
    const query = { ...slowQuery, limit: 22, renewQuery: true };
    const before = await runs();
    let res = await load(t.app, query, slowToken);
    expect(res.body).toEqual({ error: 'Continue wait' });
    for (let poll = 0; poll < 100 && res.body.error === 'Continue wait'; poll += 1) res = await load(t.app, query, slowToken);
    expect(res.body.data).toEqual([{ 'slow_runs.count': '1', 'slow_runs.run': String(before + 1) }]);
    expect(await runs()).toBe(before + 1);
  });

  it('is retried by the official @cubejs-client/core until it gets the one cached result', async () => {
    const api = cube(slowToken, { apiUrl: server.apiUrl });
    const before = await runs();
    const resultSet = await api.load({ ...slowQuery, limit: 23 });
    expect(resultSet.rawData()).toEqual([{ 'slow_runs.count': '1', 'slow_runs.run': String(before + 1) }]);
    expect(await runs()).toBe(before + 1);
  });

  it("is retried by Tessera's client until it gets the one cached result", async () => {
    const client = new TesseraClient(slowToken, { apiUrl: server.apiUrl, pollIntervalMs: 20 });
    let polls = 0;
    const before = await runs();
    const resultSet = await client.load({ ...slowQuery, limit: 24 }, { onContinueWait: () => (polls += 1) });
    expect(polls).toBeGreaterThan(0);
    expect(resultSet.rawData()).toEqual([{ 'slow_runs.count': '1', 'slow_runs.run': String(before + 1) }]);
    expect(await runs()).toBe(before + 1);
  });
});
