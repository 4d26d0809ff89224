import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';

describe('health probes, request ids and the error shape', () => {
  let t: TestApp;
  const lines: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { LOG_LEVEL: 'info' }, logDestination: { write: (line) => void lines.push(line) } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers /livez with HEALTH', async () => {
    const res = await request(t.app).get('/livez');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ health: 'HEALTH' });
  });

  it('answers /readyz with HEALTH after pinging the database', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ health: 'HEALTH' });
  });

  it('echoes a plain x-request-id from the client', async () => {
    const res = await request(t.app).get('/livez').set('x-request-id', 'abc-123_.:XYZ');
    expect(res.headers['x-request-id']).toBe('abc-123_.:XYZ');
  });

  it('replaces a request id with unsafe characters by a uuid', async () => {
    const res = await request(t.app).get('/livez').set('x-request-id', 'bad id <script>');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('replaces a request id longer than 128 characters by a uuid', async () => {
    const res = await request(t.app).get('/livez').set('x-request-id', 'a'.repeat(129));
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every response a request id, errors included', async () => {
    const res = await request(t.app).get('/no/such/route');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await request(t.app).get('/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Not found.', code: 'ERR_NOT_FOUND' });
  });

  it('answers a body that is not JSON with 400 ERR_BAD_REQUEST and does not echo it', async () => {
    const res = await request(t.app)
      .post('/cubejs-api/v1/load')
      .set('content-type', 'application/json')
      .send('{"query": secret-value-xyz');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'The request body is not valid JSON.', code: 'ERR_BAD_REQUEST' });
    expect(res.text).not.toContain('secret-value-xyz');
  });

  it('answers a body over 1 MB with 413 ERR_BAD_REQUEST', async () => {
    const res = await request(t.app)
      .post('/cubejs-api/v1/load')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ query: { measures: [], pad: 'x'.repeat(1_100_000) } }));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('ERR_BAD_REQUEST');
  });

  it('sets security headers with helmet', async () => {
    const res = await request(t.app).get('/livez');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('never writes the Authorization, API key or cookie values to the log', async () => {
    lines.length = 0;
    await request(t.app)
      .get('/no/such/route?query=%7B%22token%22%3A%22q-secret%22%7D')
      .set('Authorization', 'Bearer tok-SECRET-1')
      .set('x-cube-authorization', 'tok-SECRET-2')
      .set('x-api-key', 'tsk_SECRET3')
      .set('cookie', 'tessera_session=SECRET4');
    const log = lines.join('\n');
    expect(log).toContain('/no/such/route');
    for (const secret of ['tok-SECRET-1', 'tok-SECRET-2', 'tsk_SECRET3', 'SECRET4', 'q-secret']) {
      expect(log).not.toContain(secret);
    }
  });

  it('logs the request id of each request', async () => {
    lines.length = 0;
    await request(t.app).get('/livez').set('x-request-id', 'trace-me-42');
    // Health probes log at debug; use a 404 to get an info line.
    await request(t.app).get('/missing').set('x-request-id', 'trace-me-43');
    expect(lines.some((l) => JSON.parse(l).req?.id === 'trace-me-43')).toBe(true);
  });
});

describe('readiness when the database is down', () => {
  let t: TestApp;
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await startTcpProxy(testDatabaseUrl());
    t = await createTestApp({ env: { DATABASE_URL: proxy.url, TESSERA_DB_CONNECTION_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await t.close();
    await proxy.close();
  });

  it('answers /readyz with 503 DOWN, then HEALTH again once the database is back', async () => {
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    proxy.cut();
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ health: 'DOWN' });
    proxy.restore();
    expect((await request(t.app).get('/readyz')).body).toEqual({ health: 'HEALTH' });
  });

  it('still answers /livez without the database', async () => {
    proxy.cut();
    const res = await request(t.app).get('/livez');
    proxy.restore();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ health: 'HEALTH' });
  });
});
