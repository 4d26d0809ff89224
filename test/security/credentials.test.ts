/**
 * Class: one security context per request, derived one way. The legacy `u` claim merges under
 * top-level claims; an API key's bound context goes through the same derivation as a token;
 * a repeated credential header or credentials that disagree are a 400. Keys need an explicit
 * context, and the key list shows at most 8 hex digits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperatorApp, type OperatorApp } from '../operator/operator-fixtures.js';
import { testDatabaseUrl } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const PASSWORD = 'Security suite pass 7!';
const AMBIGUOUS = { error: 'The request must carry exactly one credential, in one header', code: 'ERR_AUTH_AMBIGUOUS_CREDENTIALS' };

let op: OperatorApp;
let cookie: string;
let db: pg.Client;
let server: http.Server;
let port: number;

beforeAll(async () => {
  op = await startOperatorApp({ TESSERA_AUTH: 'local' });
  expect((await request(op.app).post('/api/auth/setup').send({ password: PASSWORD })).status).toBe(201);
  const login = await request(op.app).post('/api/auth/login').send({ password: PASSWORD });
  cookie = String(login.headers['set-cookie']?.[0]).split(';')[0] ?? '';
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  server = http.createServer(op.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await db?.end();
  await op?.close();
});

const count = async (sql: string) => String((await db.query(sql)).rows[0]?.n);
const QUERY = { measures: ['Orders.count'] };
const load = (headers: Record<string, string>) => request(op.app).post('/cubejs-api/v1/load').set(headers).send({ query: QUERY });
const createKey = (body: object) => request(op.app).post('/api/keys').set('Cookie', cookie).send({ name: 'security suite', scopes: ['query'], ...body });

/** A raw request that can repeat a header, which supertest cannot. */
function rawLoad(headers: [string, string][]): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: `/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify(QUERY))}` });
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the legacy u claim', () => {
  it('never overrides a top-level claim: u.tenant_id 2 beside tenant_id 1 answers for tenant 1', async () => {
    const res = await load({ authorization: signToken({ sub: 'x', tenant_id: 1, u: { tenant_id: 2, id: 6 } }) });
    expect(res.body.data).toEqual([{ 'Orders.count': await count('SELECT count(*) AS n FROM orders WHERE tenant_id = 1 AND user_id = 6') }]);
  });
});

describe('an API key and a token carrying the same payload', () => {
  it.each([
    ['u beside a top-level tenant', { u: { id: 1 }, tenant_id: 1 }],
    ['a u that tries to switch tenant', { u: { tenant_id: 2, id: 1 }, tenant_id: 1 }],
    ['a top-level id only', { id: 11 }],
  ])('see exactly the same rows: %s', async (_name, context) => {
    const created = await createKey({ securityContext: context });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const viaKey = await load({ 'x-api-key': created.body.key });
    const viaToken = await load({ authorization: signToken({ sub: 'x', ...context }) });
    expect(viaKey.status).toBe(200);
    expect(viaKey.body.data).toEqual(viaToken.body.data);
  });

  it('are both refused when the payload has none of the filter claims', async () => {
    const created = await createKey({ securityContext: { tenantId: 1 } });
    const viaKey = await load({ 'x-api-key': created.body.key });
    const viaToken = await load({ authorization: signToken({ sub: 'x', tenantId: 1 }) });
    expect([viaKey.status, viaKey.body.code]).toEqual([403, 'ERR_AUTH_CLAIMS_MISSING']);
    expect(viaToken.body).toEqual(viaKey.body);
  });
});

describe('creating an API key', () => {
  it('needs an explicit security context', async () => {
    for (const body of [{}, { securityContext: {} }]) {
      const res = await createKey(body);
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([400, 'ERR_BAD_REQUEST']);
      expect(res.body.error).toMatch(/securityContext is required/);
    }
  });

  it('refuses a context with __proto__, as a token would be refused', async () => {
    const res = await request(op.app)
      .post('/api/keys')
      .set('Cookie', cookie)
      .set('Content-Type', 'application/json')
      .send('{"name":"proto","scopes":["query"],"securityContext":{"__proto__":{"tenant_id":1}}}');
    expect([res.status, res.body.error]).toEqual([400, 'securityContext must not contain a __proto__ key.']);
  });

  it('makes an all-tenants key a separate choice, which sees every tenant', async () => {
    expect((await createKey({ allTenants: true, securityContext: { tenant_id: 1 } })).status).toBe(400);
    const created = await createKey({ allTenants: true });
    expect([created.status, created.body.allTenants, created.body.securityContext]).toEqual([201, true, {}]);
    const res = await load({ 'x-api-key': created.body.key });
    expect(res.body.data).toEqual([{ 'Orders.count': await count('SELECT count(*) AS n FROM orders') }]);
  });

  it('lists keys with tsk_ and at most 8 hex digits', async () => {
    const created = await createKey({ securityContext: { tenant_id: 3 } });
    const list = await request(op.app).get('/api/keys?limit=100').set('Cookie', cookie);
    const listed = list.body.keys.find((k: { id: string }) => k.id === created.body.id);
    expect(listed.prefix).toMatch(/^tsk_[0-9a-f]{8}$/);
    expect(JSON.stringify(list.body)).not.toContain(String(created.body.key).slice(0, 13));
  });
});

describe('several credentials in one request', () => {
  it('refuses a token and an API key together, even for the same tenant', async () => {
    const created = await createKey({ securityContext: { tenant_id: 1 } });
    const res = await load({ 'x-api-key': created.body.key, authorization: signToken({ sub: 'x', tenant_id: 1 }) });
    expect([res.status, res.body]).toEqual([400, AMBIGUOUS]);
  });

  it('refuses Authorization and x-cube-authorization carrying different tokens', async () => {
    const res = await load({ authorization: signToken({ sub: 'a', tenant_id: 1 }), 'x-cube-authorization': signToken({ sub: 'b', tenant_id: 2 }) });
    expect([res.status, res.body]).toEqual([400, AMBIGUOUS]);
  });

  it.each(['x-cube-authorization', 'authorization', 'x-api-key'])('refuses a repeated %s header, even with the same value', async (name) => {
    const token = signToken({ sub: 'x', tenant_id: 1 });
    const res = await rawLoad([
      [name, token],
      [name, token],
    ]);
    expect(res).toEqual({ status: 400, body: AMBIGUOUS });
  });

  it('refuses two x-cube-authorization headers for different tenants instead of letting the last win', async () => {
    const res = await rawLoad([
      ['x-cube-authorization', signToken({ sub: 'x', tenant_id: 1 })],
      ['x-cube-authorization', signToken({ sub: 'x', tenant_id: 2 })],
    ]);
    expect(res.status).toBe(400);
  });
});

