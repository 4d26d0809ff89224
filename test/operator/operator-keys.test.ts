import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperatorApp, type OperatorApp } from './operator-fixtures.js';

const PASSWORD = 'Keys admin pass 1!';

describe('API key management', () => {
  let op: OperatorApp;
  let cookie: string;

  beforeAll(async () => {
    op = await startOperatorApp({ TESSERA_AUTH: 'local' });
    expect((await request(op.app).post('/api/auth/setup').send({ password: PASSWORD })).status).toBe(201);
    const login = await request(op.app).post('/api/auth/login').send({ password: PASSWORD });
    cookie = String(login.headers['set-cookie']?.[0]).split(';')[0]!;
  });
  afterAll(async () => op.close());

  const createKey = (body: unknown) => request(op.app).post('/api/keys').set('Cookie', cookie).send(body as object);

  it('creates a key and shows the full key exactly once', async () => {
    const res = await createKey({ name: 'Tenant 3 reports', scopes: ['query'], securityContext: { tenant_id: 3 } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^key_[0-9a-z]{10}$/),
      name: 'Tenant 3 reports',
      key: expect.stringMatching(/^tsk_[0-9a-f]{32}$/),
      prefix: res.body.key.slice(0, 12),
      scopes: ['query'],
      securityContext: { tenant_id: 3 },
      allTenants: false,
      createdAt: expect.any(String),
      expiresAt: null,
    });
    const list = await request(op.app).get('/api/keys').set('Cookie', cookie);
    expect(list.status).toBe(200);
    const listed = list.body.keys.find((k: { id: string }) => k.id === res.body.id);
    expect(listed).toEqual({
      id: res.body.id,
      name: 'Tenant 3 reports',
      prefix: res.body.prefix,
      scopes: ['query'],
      securityContext: { tenant_id: 3 },
      allTenants: false,
      createdAt: res.body.createdAt,
      lastUsedAt: null,
      revokedAt: null,
      expiresAt: null,
    });
    expect(JSON.stringify(list.body)).not.toContain(res.body.key);
  });

  it('pages the list with limit and offset, newest first', async () => {
    for (const name of ['page a', 'page b', 'page c']) {
      expect((await createKey({ name, scopes: ['meta'], securityContext: { tenant_id: 1 } })).status).toBe(201);
    }
    const first = await request(op.app).get('/api/keys?limit=2&offset=0').set('Cookie', cookie);
    const second = await request(op.app).get('/api/keys?limit=2&offset=2').set('Cookie', cookie);
    expect(first.body.pagination).toEqual({ total: first.body.pagination.total, limit: 2, offset: 0, has_more: true });
    expect(first.body.keys.map((k: { name: string }) => k.name)).toEqual(['page c', 'page b']);
    expect(second.body.keys[0].name).toBe('page a');
  });

  it.each([['0'], ['101'], ['abc']])('rejects limit=%s with 400', async (limit) => {
    const res = await request(op.app).get(`/api/keys?limit=${limit}`).set('Cookie', cookie);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'ERR_BAD_REQUEST', error: 'limit must be a whole number from 1 to 100.' });
  });

  it('revokes a key with 204, then answers 404 for it', async () => {
    const { body } = await createKey({ name: 'short lived', scopes: ['query'], securityContext: { tenant_id: 1 } });
    const revoke = await request(op.app).delete(`/api/keys/${body.id}`).set('Cookie', cookie);
    expect(revoke.status).toBe(204);
    const again = await request(op.app).delete(`/api/keys/${body.id}`).set('Cookie', cookie);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('ERR_NOT_FOUND');
    const listed = (await request(op.app).get('/api/keys?limit=100').set('Cookie', cookie)).body.keys.find(
      (k: { id: string }) => k.id === body.id,
    );
    expect(listed.revokedAt).toEqual(expect.any(String));
  });

  it('answers 404 for an unknown key id and 400 for a malformed one', async () => {
    expect((await request(op.app).delete('/api/keys/key_zzzzzzzzzz').set('Cookie', cookie)).status).toBe(404);
    const bad = await request(op.app).delete(`/api/keys/${encodeURIComponent('key_ÄÖÜ1234567')}`).set('Cookie', cookie);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('ERR_BAD_REQUEST');
    expect((await request(op.app).delete(`/api/keys/key_${'a'.repeat(500)}`).set('Cookie', cookie)).status).toBe(400);
  });

  it.each([
    ['a missing name', { scopes: ['query'] }, 'name must be a string.'],
    ['a non-ASCII name', { name: 'Schlüssel', scopes: ['query'] }, 'name must contain printable ASCII characters only.'],
    ['an overlong name', { name: 'n'.repeat(101), scopes: ['query'] }, 'name must be at most 100 characters.'],
    ['an unknown scope', { name: 'k', scopes: ['admin'] }, 'scopes may contain only "query", "meta" and "metrics".'],
    ['no scopes', { name: 'k', scopes: [] }, 'scopes must name at least one scope.'],
    ['an array context', { name: 'k', scopes: ['query'], securityContext: [] }, 'securityContext must be a JSON object.'],
    [
      'a non-ASCII context property',
      { name: 'k', scopes: ['query'], securityContext: { 'mandant_ü': 1 } },
      'securityContext property names must be ASCII identifiers of at most 64 characters, nested at most 8 deep.',
    ],
    ['an unknown field', { name: 'k', scopes: ['query'], key: 'tsk_mine' }, 'Unknown field in the request: "key".'],
    ['a past expiry', { name: 'k', scopes: ['query'], securityContext: { tenant_id: 1 }, expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt must be in the future.'],
  ])('rejects a key body with %s with 400 and a clear message', async (_what, body, message) => {
    const res = await createKey(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'ERR_BAD_REQUEST', error: message });
  });

  it('rejects a malformed or overlong JSON body with 400', async () => {
    const broken = await request(op.app)
      .post('/api/keys')
      .set('Cookie', cookie)
      .set('Content-Type', 'application/json')
      .send('{"name": "k", "scopes": [');
    expect(broken.status).toBe(400);
    const huge = await createKey({ name: 'k', scopes: ['query'], securityContext: { blob: 'x'.repeat(17_000) } });
    expect(huge.status).toBe(400);
    expect(huge.body).toEqual({ code: 'ERR_BAD_REQUEST', error: 'The request body must be a JSON object of at most 16 KB.' });
  });

  it('refuses every key route without a session cookie, even with a valid API key', async () => {
    const { body } = await createKey({ name: 'cannot manage', scopes: ['query', 'meta'], securityContext: { tenant_id: 1 } });
    const attempts = [
      request(op.app).get('/api/keys').set('X-API-Key', body.key),
      request(op.app).post('/api/keys').set('Authorization', `Bearer ${body.key}`).send({ name: 'x', scopes: ['query'] }),
      request(op.app).delete(`/api/keys/${body.id}`).set('X-API-Key', body.key),
      request(op.app).put('/api/auth/password').set('X-API-Key', body.key).send({ current_password: PASSWORD, new_password: 'Whatever pass 5!' }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_AUTH_SESSION_REQUIRED');
    }
    const row = await op.deps.db.knex.withSchema(op.schema).table('api_keys').where({ id: body.id }).first();
    expect(row.revoked_at).toBeNull();
  });
});
