import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeLimiterConnections } from '../../src/operator/create-limiter-factory.js';
import { userToken } from '../support/tokens.js';
import { startOperatorApp, type OperatorApp } from './operator-fixtures.js';

const MODEL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
const PASSWORD = 'Query admin pass 1!';
const INVALID_KEY = { code: 'ERR_AUTH_INVALID_KEY', error: 'Invalid API key or insufficient permissions.' };
const byTenant = { measures: ['Orders.count'], dimensions: ['Orders.tenantId'] };

async function adminCookie(op: OperatorApp): Promise<string> {
  expect((await request(op.app).post('/api/auth/setup').send({ password: PASSWORD })).status).toBe(201);
  const login = await request(op.app).post('/api/auth/login').send({ password: PASSWORD });
  return String(login.headers['set-cookie']?.[0]).split(';')[0]!;
}

const load = (op: OperatorApp, query: object = byTenant) =>
  request(op.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query) });

describe('querying with API keys', () => {
  let op: OperatorApp;
  let cookie: string;
  const newKey = async (body: object) => {
    const res = await request(op.app).post('/api/keys').set('Cookie', cookie).send(body);
    expect(res.status).toBe(201);
    return res.body as { id: string; key: string };
  };

  beforeAll(async () => {
    op = await startOperatorApp({ TESSERA_AUTH: 'local', CUBEJS_SCHEMA_PATH: MODEL });
    cookie = await adminCookie(op);
  });
  afterAll(async () => op.close());

  it('runs setup → login → key → query → revoke, and the revoked key stops at once', async () => {
    const { id, key } = await newKey({ name: 'tenant 3', scopes: ['query'], securityContext: { tenant_id: 3 } });
    const viaHeader = await load(op).set('X-API-Key', key);
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.data).toEqual([{ 'Orders.tenantId': 3, 'Orders.count': expect.any(String) }]);
    const expected = await op.deps.db.knex('orders').withSchema('tessera_demo').where({ tenant_id: 3 }).count<{ count: string }[]>({ count: '*' });
    expect(viaHeader.body.data[0]['Orders.count']).toBe(expected[0]!.count);

    const viaBearer = await load(op).set('Authorization', `Bearer ${key}`);
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body.data).toEqual(viaHeader.body.data);

    expect((await request(op.app).delete(`/api/keys/${id}`).set('Cookie', cookie)).status).toBe(204);
    const revoked = await load(op).set('X-API-Key', key);
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual(INVALID_KEY);
  });

  it('applies the row filter of the bound context: a tenant 5 key sees only tenant 5', async () => {
    const { key } = await newKey({ name: 'tenant 5', scopes: ['query'], securityContext: { tenant_id: 5 } });
    const res = await load(op).set('X-API-Key', key);
    expect(res.body.data.map((r: Record<string, unknown>) => r['Orders.tenantId'])).toEqual([5]);
  });

  it('answers unknown, malformed, expired and under-scoped keys with one identical 401', async () => {
    const metaOnly = await newKey({ name: 'meta only', scopes: ['meta'], securityContext: { tenant_id: 1 } });
    const expiring = await newKey({ name: 'expiring', scopes: ['query'], securityContext: { tenant_id: 1 }, expiresAt: '2099-01-01T00:00:00Z' });
    await op.deps.db.knex.withSchema(op.schema).table('api_keys').where({ id: expiring.id }).update({ expires_at: new Date(Date.now() - 1000) });
    const attempts = [
      load(op).set('X-API-Key', metaOnly.key),
      load(op).set('X-API-Key', expiring.key),
      load(op).set('X-API-Key', `tsk_${'0'.repeat(32)}`),
      load(op).set('X-API-Key', 'tsk_not-a-key'),
      load(op).set('X-API-Key', `tsk_${'f'.repeat(4000)}`),
      request(op.app).get('/cubejs-api/v1/meta').set('X-API-Key', `tsk_${'1'.repeat(32)}`),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(INVALID_KEY);
    }
    expect((await request(op.app).get('/cubejs-api/v1/meta').set('X-API-Key', metaOnly.key)).status).toBe(200);
  });

  it('keeps a query-only key out of /meta', async () => {
    const { key } = await newKey({ name: 'query only', scopes: ['query'], securityContext: { tenant_id: 2 } });
    const res = await request(op.app).get('/cubejs-api/v1/meta').set('X-API-Key', key);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID_KEY);
  });

  it('shows when a key was last used', async () => {
    const { id, key } = await newKey({ name: 'tracked', scopes: ['query'], securityContext: { tenant_id: 4 } });
    expect((await load(op).set('X-API-Key', key)).status).toBe(200);
    const list = await request(op.app).get('/api/keys?limit=100').set('Cookie', cookie);
    const listed = list.body.keys.find((k: { id: string }) => k.id === id);
    expect(listed.lastUsedAt).toEqual(expect.any(String));
  });

  it('honours no key when the same metadata runs with TESSERA_AUTH=none', async () => {
    const { key } = await newKey({ name: 'none mode', scopes: ['query'], securityContext: { tenant_id: 1 } });
    const none = await startOperatorApp({ TESSERA_AUTH: 'none', CUBEJS_SCHEMA_PATH: MODEL, TESSERA_META_SCHEMA: op.schema });
    try {
      const res = await load(none).set('X-API-Key', key);
      expect(res.status).not.toBe(200);
      expect(res.body.data).toBeUndefined();
    } finally {
      await none.close();
    }
  });
});

describe('query rate limits', () => {
  let op: OperatorApp;
  let cookie: string;

  beforeAll(async () => {
    op = await startOperatorApp({
      TESSERA_AUTH: 'local',
      CUBEJS_SCHEMA_PATH: MODEL,
      TESSERA_QUERY_RATE_LIMIT: '3',
      TESSERA_QUERY_RATE_WINDOW_SEC: '600',
    });
    cookie = await adminCookie(op);
  });
  afterAll(async () => op.close());

  it('counts down X-RateLimit-Remaining per key and answers 429 with Retry-After when it runs out', async () => {
    const created = await request(op.app).post('/api/keys').set('Cookie', cookie).send({ name: 'limited', scopes: ['query'], securityContext: { tenant_id: 1 } });
    const key = created.body.key as string;
    const before = Math.floor(Date.now() / 1000);
    const remaining: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await load(op).set('X-API-Key', key);
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      remaining.push(String(res.headers['x-ratelimit-remaining']));
      const reset = Number(res.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(before);
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 600);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await load(op).set('X-API-Key', key);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('ERR_RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.body.data).toBeUndefined();

    // Another key has its own budget.
    const other = await request(op.app).post('/api/keys').set('Cookie', cookie).send({ name: 'other', scopes: ['query'], securityContext: { tenant_id: 1 } });
    const fresh = await load(op).set('X-API-Key', other.body.key);
    expect(fresh.status).toBe(200);
    expect(fresh.headers['x-ratelimit-remaining']).toBe('2');
  });

  it('limits tokens per subject, each subject on its own budget', async () => {
    for (let i = 0; i < 3; i += 1) expect((await load(op).set('Authorization', userToken(7))).status).toBe(200);
    expect((await load(op).set('Authorization', userToken(7))).status).toBe(429);
    // A fresh token for the same subject shares the budget; another subject does not.
    expect((await load(op).set('Authorization', userToken(7, { extra: { jti: 'another' } }))).status).toBe(429);
    expect((await load(op).set('Authorization', userToken(8))).status).toBe(200);
  });
});

describe('query and login limits through Redis', () => {
  let op: OperatorApp;

  beforeAll(async () => {
    op = await startOperatorApp({
      TESSERA_AUTH: 'password',
      TESSERA_PASSWORD: 'shared secret',
      CUBEJS_SCHEMA_PATH: MODEL,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      TESSERA_QUERY_RATE_LIMIT: '2',
      TESSERA_LOGIN_MAX_FAILURES: '1',
    });
  });
  afterAll(async () => {
    await closeLimiterConnections();
    await op.close();
  });

  it('keeps the counters in Redis, not in PostgreSQL', async () => {
    expect((await load(op).set('Authorization', userToken(11))).status).toBe(200);
    expect((await load(op).set('Authorization', userToken(11))).status).toBe(200);
    expect((await load(op).set('Authorization', userToken(11))).status).toBe(429);
    expect((await request(op.app).post('/api/auth/login').send({ password: 'wrong' })).status).toBe(401);
    expect((await request(op.app).post('/api/auth/login').send({ password: 'shared secret' })).status).toBe(429);
    expect(await op.deps.db.knex.withSchema(op.schema).table('rate_limits').select('key')).toEqual([]);
  });
});
