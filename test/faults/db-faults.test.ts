/**
 * PostgreSQL behind a TCP proxy in the test: a partition (black-hole) and its
 * heal, latency, and connection resets. Every answer is 200, 503 or 504 with
 * Tessera's error shape, never a 500, and service returns within seconds of
 * the fault ending. Bounds are generous: the machine is shared.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { openPgActivity } from './pg-activity.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAULT_ENV = {
  TESSERA_DB_STATEMENT_TIMEOUT_MS: '1000',
  TESSERA_DB_CLIENT_TIMEOUT_MS: '2000',
  TESSERA_DB_CONNECTION_TIMEOUT_MS: '1000',
  TESSERA_DB_POOL_MAX: '4',
  // Every request must reach PostgreSQL through the proxy; a cached answer would hide the fault.
  TESSERA_CACHE: 'false',
};
const token = userToken(42);
const countQuery = JSON.stringify({ measures: ['Orders.count'] });

let open: { t: TestApp; proxy: TcpProxy }[] = [];
afterEach(async () => {
  for (const { t, proxy } of open) {
    proxy.restore();
    proxy.latency(0);
    await t.close();
    await proxy.close();
  }
  open = [];
});

async function appBehindProxy(env: Record<string, string> = {}, schemaPath?: string): Promise<{ t: TestApp; proxy: TcpProxy }> {
  const proxy = await startTcpProxy(testDatabaseUrl());
  const t = await createTestApp({ env: { ...FAULT_ENV, ...env, DATABASE_URL: proxy.url }, ...(schemaPath ? { schemaPath } : {}) });
  open.push({ t, proxy });
  return { t, proxy };
}

/** Sends at once (a supertest request otherwise waits until awaited). */
const load = (t: TestApp, query = countQuery): Promise<request.Response> =>
  request(t.app).get('/cubejs-api/v1/load').query({ query }).set('Authorization', token).then((r) => r);

/** Every failure is a known database status with `{error, code, requestId}` and no driver text. */
function expectDatabaseFailure(res: request.Response): void {
  expect([503, 504]).toContain(res.status);
  expect(res.body.code).toBe(res.status === 503 ? 'ERR_DB_UNAVAILABLE' : 'ERR_DB_TIMEOUT');
  expect(typeof res.body.error).toBe('string');
  expect(res.text).not.toMatch(/ECONN|terminated|timeout exceeded|pg_|relation/i);
  if (res.status === 503) expect(res.headers['retry-after']).toMatch(/^\d+$/);
}

/** Polls `/load` until it answers 200; returns the milliseconds that took. */
async function msUntilHealthy(t: TestApp, limitMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    const res = await load(t);
    if (res.status === 200) return performance.now() - started;
    expectDatabaseFailure(res);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not healthy within ${limitMs} ms`);
}

describe('a network partition to PostgreSQL', () => {
  it('answers 503 during the partition, then recovers within seconds of the heal with no frozen connections', async () => {
    const { t, proxy } = await appBehindProxy();
    expect((await load(t)).status).toBe(200);
    proxy.blackhole();
    const during = await Promise.all(Array.from({ length: 8 }, () => load(t)));
    for (const res of during) expectDatabaseFailure(res);
    proxy.heal();
    const recoveryMs = await msUntilHealthy(t, 15_000);
    expect(recoveryMs).toBeLessThan(10_000);
    // Every connection in the pool works again: a burst larger than the pool all succeeds.
    const after = await Promise.all(Array.from({ length: 12 }, () => load(t)));
    expect(after.map((r) => r.status)).toEqual(Array(12).fill(200));
  });

  it('answers /readyz with 503 within a second while the network is black-holed, and 200 after the heal', async () => {
    const { t, proxy } = await appBehindProxy();
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    proxy.blackhole();
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      const res = await request(t.app).get('/readyz');
      // The issue asks for one second; the margin is for a loaded machine.
      expect(performance.now() - started).toBeLessThan(1500);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ health: 'DOWN' });
    }
    proxy.heal();
    let ready = 0;
    for (let i = 0; i < 50 && ready !== 200; i += 1) {
      ready = (await request(t.app).get('/readyz')).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(200);
  });
});

describe('latency to PostgreSQL', () => {
  it('answers 503 or 504 (never 500) while every packet takes 1.5 s, and 200 once latency is gone', async () => {
    const { t, proxy } = await appBehindProxy();
    expect((await load(t)).status).toBe(200);
    proxy.latency(1500);
    const during = await Promise.all(Array.from({ length: 10 }, () => load(t)));
    for (const res of during) {
      if (res.status !== 200) expectDatabaseFailure(res);
    }
    expect(during.some((r) => r.status !== 200)).toBe(true);
    proxy.latency(0);
    expect(await msUntilHealthy(t, 15_000)).toBeLessThan(10_000);
  });
});

describe('connection resets', () => {
  it('answers 503 for a statement whose connection is reset, and the next request succeeds on a fresh one', async () => {
    const { t, proxy } = await appBehindProxy();
    expect((await load(t)).status).toBe(200);
    const { arrived } = proxy.hold();
    const inFlight = load(t);
    await arrived;
    proxy.reset();
    proxy.release();
    expectDatabaseFailure(await inFlight);
    expect(await msUntilHealthy(t, 5000)).toBeLessThan(3000);
  });

  it('recovers when every connection is reset between requests', async () => {
    const { t, proxy } = await appBehindProxy();
    await Promise.all(Array.from({ length: 4 }, () => load(t)));
    proxy.reset();
    const after = await Promise.all(Array.from({ length: 4 }, () => load(t)));
    for (const res of after) if (res.status !== 200) expectDatabaseFailure(res);
    expect(await msUntilHealthy(t, 5000)).toBeLessThan(3000);
  });

  it('answers 503 with Retry-After while the database refuses connections, and 200 once it is back', async () => {
    const { t, proxy } = await appBehindProxy();
    proxy.cut();
    expectDatabaseFailure(await load(t));
    proxy.restore();
    expect(await msUntilHealthy(t, 5000)).toBeLessThan(3000);
  });
});

describe('errors by cause over HTTP', () => {
  it('answers a statement that exceeds the statement timeout with 504 ERR_DB_TIMEOUT', async () => {
    const { t } = await appBehindProxy({}, path.join(here, 'model'));
    const res = await load(t, JSON.stringify({ measures: ['SlowTwo.count'] }));
    expect(res.status).toBe(504);
    expect(res.body).toEqual({ error: 'The database did not answer in time.', code: 'ERR_DB_TIMEOUT', requestId: expect.any(String) });
  });

  it('answers a value PostgreSQL cannot convert for its column with 400 ERR_QUERY_INVALID_VALUE', async () => {
    const { t } = await appBehindProxy({}, path.join(here, 'model'));
    // 1e99 is a number to the validator but out of range for an integer column.
    const res = await load(t, JSON.stringify({ measures: ['Fast.count'], filters: [{ member: 'Fast.id', operator: 'equals', values: ['1e99'] }] }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'A value in the query is not valid for its column.', code: 'ERR_QUERY_INVALID_VALUE' });
  });

  it('answers a model mistake PostgreSQL rejects with a 500 that carries only a request id, never the driver text', async () => {
    const { t } = await appBehindProxy({}, path.join(here, 'model'));
    const res = await load(t, JSON.stringify({ measures: ['Broken.total'] }));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'The query failed in the database.', code: 'ERR_DB_QUERY_FAILED', requestId: res.headers['x-request-id'] });
    expect(res.text).not.toContain('no_such_column');
  });

  it('answers 503 with Retry-After when a context waits longer than the pool timeout for a slot', async () => {
    const { t } = await appBehindProxy({ TESSERA_DB_STATEMENT_TIMEOUT_MS: '10000', TESSERA_DB_CLIENT_TIMEOUT_MS: '15000', TESSERA_DB_POOL_MAX: '2' }, path.join(here, 'model'));
    const busy = load(t, JSON.stringify({ measures: ['SlowTwo.count'] }));
    const activity = await openPgActivity();
    await activity.waitFor('pg_sleep(2))', (n) => n >= 1).finally(() => activity.close());
    const res = await load(t, JSON.stringify({ measures: ['Fast.count'] }));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_DB_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('1');
    expect((await busy).status).toBe(200);
  });
});
