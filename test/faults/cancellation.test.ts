/**
 * A statement whose request is gone (client hung up, or the request deadline
 * passed) is cancelled in PostgreSQL within a second, as pg_stat_activity shows.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/server/start-http-server.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';
import { openPgActivity, type PgActivity } from './pg-activity.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The issue asks for one second; the margin is for a shared, loaded machine. */
const CANCEL_BOUND_MS = 1500;
const SLOW = 'pg_sleep(29)';
const slowQuery = JSON.stringify({ measures: ['SlowLong.count'] });

/** The fault model's app on a real HTTP server (clients can hang up), with pg_stat_activity open. */
async function serveFaultModel(env: Record<string, string>): Promise<{ t: TestApp; server: http.Server; port: number; activity: PgActivity; close(): Promise<void> }> {
  const t = await createTestApp({ schemaPath: path.join(here, 'model'), env: { TESSERA_DB_STATEMENT_TIMEOUT_MS: '60000', ...env } });
  const server = createHttpServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const activity = await openPgActivity();
  return {
    t,
    server,
    port: (server.address() as AddressInfo).port,
    activity,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await activity.close();
      await t.close();
    },
  };
}

// The statement scope reaches the database through the result cache and without it.
describe.each([
  ['with the result cache', {}],
  ['without the result cache', { TESSERA_CACHE: 'false' }],
])('cancelling statements whose request is gone (%s)', (_label, cacheEnv) => {
  let t: TestApp;
  let port: number;
  let activity: PgActivity;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ t, port, activity, close } = await serveFaultModel(cacheEnv));
  });
  afterAll(() => close());

  it('cancels the running statement within a second of the client hanging up', async () => {
    const before = await activity.count(SLOW);
    const req = http.get({ host: '127.0.0.1', port, path: `/cubejs-api/v1/load?query=${encodeURIComponent(slowQuery)}`, headers: { Authorization: userToken(7) } });
    req.on('error', () => undefined);
    await activity.waitFor(SLOW, (n) => n > before);
    req.destroy();
    const ms = await activity.waitFor(SLOW, (n) => n <= before, 10_000);
    expect(ms).toBeLessThan(CANCEL_BOUND_MS);
  });

  it('cancels every statement of several clients that hang up at once', async () => {
    const before = await activity.count(SLOW);
    const reqs = [8, 9, 10, 11].map((user) => {
      const r = http.get({ host: '127.0.0.1', port, path: `/cubejs-api/v1/load?query=${encodeURIComponent(slowQuery)}`, headers: { Authorization: userToken(user) } });
      r.on('error', () => undefined);
      return r;
    });
    await activity.waitFor(SLOW, (n) => n >= before + 4);
    for (const r of reqs) r.destroy();
    expect(await activity.waitFor(SLOW, (n) => n <= before, 10_000)).toBeLessThan(CANCEL_BOUND_MS);
  });

  it('keeps serving on the same pool after cancelling', async () => {
    const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Fast.count'] }) }).set('Authorization', userToken(7));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ 'Fast.count': '1' }]);
  });
});

describe('the request deadline', () => {
  let t: TestApp;
  let activity: PgActivity;
  beforeAll(async () => {
    t = await createTestApp({
      schemaPath: path.join(here, 'model'),
      env: { TESSERA_DB_STATEMENT_TIMEOUT_MS: '60000', TESSERA_REQUEST_TIMEOUT_MS: '1500' },
    });
    activity = await openPgActivity();
  });
  afterAll(async () => {
    await activity.close();
    await t.close();
  });

  it('answers 504 ERR_DB_TIMEOUT when the deadline passes and cancels the statement within a second', async () => {
    const before = await activity.count(SLOW);
    const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: slowQuery }).set('Authorization', userToken(12));
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('ERR_DB_TIMEOUT');
    expect(res.body.error).toContain('request time limit');
    expect(await activity.waitFor(SLOW, (n) => n <= before, 10_000)).toBeLessThan(CANCEL_BOUND_MS);
  });
});

describe('a coalesced request whose starter hangs up', () => {
  let server: http.Server;
  let port: number;
  let activity: PgActivity;
  const SLOW_TWO = 'pg_sleep(2)';
  const slowTwo = JSON.stringify({ measures: ['SlowTwo.count'] });
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ server, port, activity, close } = await serveFaultModel({}));
  });
  afterAll(() => close());

  it('still gets its rows: the cancelled statement runs again for the request that joined it', async () => {
    const token = userToken(7);
    const before = await activity.count(SLOW_TWO);
    const starter = http.get({ host: '127.0.0.1', port, path: `/cubejs-api/v1/load?query=${encodeURIComponent(slowTwo)}`, headers: { Authorization: token } });
    starter.on('error', () => undefined);
    await activity.waitFor(SLOW_TWO, (n) => n > before);
    const joiner = request(server).get('/cubejs-api/v1/load').query({ query: slowTwo }).set('Authorization', token).then((r) => r);
    // The joiner is in flight (coalesced on the running statement) when the starter hangs up.
    await new Promise((r) => setTimeout(r, 300));
    starter.destroy();
    const res = await joiner;
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(Number(res.body.data[0]['SlowTwo.count'])).toBeGreaterThan(0);
  });
});
