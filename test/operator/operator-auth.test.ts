import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperatorApp, type OperatorApp } from './operator-fixtures.js';

const PASSWORD = 'Initial pass 1!';
const NEW_PASSWORD = 'Second pass 2?';

/** The session cookie pair (`name=value`) from a response, with its attributes. */
function sessionCookie(res: request.Response): { pair: string; attributes: string[] } {
  const header = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('tessera_session='));
  if (header === undefined) throw new Error('no session cookie was set');
  const [pair = '', ...attributes] = header.split(';').map((p) => p.trim());
  return { pair, attributes };
}

describe('operator auth in local mode', () => {
  let op: OperatorApp;
  // A trusted proxy lets each test speak as its own client address, so limiter counts never mix.
  const from = (ip: string) => ({ 'X-Forwarded-For': ip });

  beforeAll(async () => {
    op = await startOperatorApp({ TESSERA_AUTH: 'local', TESSERA_TRUSTED_PROXIES: '127.0.0.1,::1' });
  });
  afterAll(async () => op.close());

  it('reports that setup is required before the first password is set', async () => {
    const res = await request(op.app).get('/api/auth/status');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mode: 'local', setup_required: true, authenticated: false });
  });

  it('refuses a login before setup with 403 pointing at the setup endpoint', async () => {
    const res = await request(op.app).post('/api/auth/login').set(from('192.0.2.1')).send({ password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      code: 'ERR_AUTH_SETUP_REQUIRED',
      error: 'Admin setup is required; set a password with POST /api/auth/setup first.',
    });
  });

  it('rejects a weak setup password with 400 naming the failed rule', async () => {
    const res = await request(op.app).post('/api/auth/setup').set(from('192.0.2.2')).send({ password: 'alllowercase1!' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'ERR_AUTH_WEAK_PASSWORD', error: 'Password must contain an upper-case letter.' });
  });

  it('sets the admin password once with 201 and answers 410 ever after', async () => {
    const first = await request(op.app).post('/api/auth/setup').set(from('192.0.2.3')).send({ password: PASSWORD });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ ok: true });
    expect(first.headers['set-cookie']).toBeUndefined();
    const again = await request(op.app).post('/api/auth/setup').set(from('192.0.2.4')).send({ password: 'Another pass 3#' });
    expect(again.status).toBe(410);
    expect(again.body.code).toBe('ERR_AUTH_SETUP_DONE');
    const row = await op.deps.db.knex.withSchema(op.schema).table('admin').first();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=3,p=1\$/);
  });

  it('rejects a wrong password with 401', async () => {
    const res = await request(op.app).post('/api/auth/login').set(from('192.0.2.5')).send({ password: 'Wrong pass 9!' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ code: 'ERR_AUTH_BAD_CREDENTIALS', error: 'Wrong password.' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('logs in with a Secure, HttpOnly, SameSite=Strict cookie holding an HS256 JWT, never in the body', async () => {
    const res = await request(op.app).post('/api/auth/login').set(from('192.0.2.6')).send({ password: PASSWORD });
    expect(res.status).toBe(200);
    const { pair, attributes } = sessionCookie(res);
    expect(attributes).toEqual(expect.arrayContaining(['Max-Age=604800', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict']));
    const token = pair.slice('tessera_session='.length);
    const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(Object.keys(payload!).sort()).toEqual(['exp', 'iat', 'jti', 'sub']);
    expect(payload!.sub).toBe('admin');
    expect((payload!.exp as number) - (payload!.iat as number)).toBe(7 * 86_400);
    expect(JSON.stringify(res.body)).not.toContain(token);
    expect(res.body).toEqual({ authenticated: true, mode: 'local', expires_at: new Date((payload!.exp as number) * 1000).toISOString() });
  });

  it('shows the session and the authenticated status to the cookie holder only', async () => {
    const login = await request(op.app).post('/api/auth/login').set(from('192.0.2.7')).send({ password: PASSWORD });
    const { pair } = sessionCookie(login);
    const session = await request(op.app).get('/api/auth/session').set('Cookie', pair);
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ authenticated: true, mode: 'local' });
    const status = await request(op.app).get('/api/auth/status').set('Cookie', pair);
    expect(status.body).toEqual({ mode: 'local', setup_required: false, authenticated: true });
    const anonymous = await request(op.app).get('/api/auth/session');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('ERR_AUTH_SESSION_REQUIRED');
  });

  it('rejects a session cookie signed with another secret', async () => {
    const login = await request(op.app).post('/api/auth/login').set(from('192.0.2.8')).send({ password: PASSWORD });
    const { pair } = sessionCookie(login);
    const [h, p] = pair.slice('tessera_session='.length).split('.');
    const forged = `tessera_session=${h}.${p}.${Buffer.alloc(32).toString('base64url')}`;
    const res = await request(op.app).get('/api/auth/session').set('Cookie', forged);
    expect(res.status).toBe(401);
  });

  it('ends the session on logout, server side as well as in the browser', async () => {
    const login = await request(op.app).post('/api/auth/login').set(from('192.0.2.9')).send({ password: PASSWORD });
    const { pair } = sessionCookie(login);
    const logout = await request(op.app).post('/api/auth/logout').set('Cookie', pair);
    expect(logout.status).toBe(200);
    expect(sessionCookie(logout).attributes).toContain('Max-Age=0');
    const after = await request(op.app).get('/api/auth/session').set('Cookie', pair);
    expect(after.status).toBe(401);
  });

  it('blocks a client after 5 failed logins with 429 and the real time left, even for the right password', async () => {
    const client = from('198.51.100.20');
    for (let i = 0; i < 5; i += 1) {
      const res = await request(op.app).post('/api/auth/login').set(client).send({ password: `Wrong pass ${i}!` });
      expect(res.status).toBe(401);
    }
    const blocked = await request(op.app).post('/api/auth/login').set(client).send({ password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('ERR_AUTH_RATE_LIMITED');
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(blocked.body.error).toBe(`Too many failed attempts; retry after ${retryAfter} seconds.`);
    // Issue 12: setup has its own counter; after setup it answers 410 without counting anything.
    const setup = await request(op.app).post('/api/auth/setup').set(client).send({ password: PASSWORD });
    expect(setup.status).toBe(410);
    // Another client is unaffected.
    const other = await request(op.app).post('/api/auth/login').set(from('198.51.100.21')).send({ password: PASSWORD });
    expect(other.status).toBe(200);
  });

  it('counts IPv6 clients per /56, so rotating addresses inside one prefix does not escape the limit', async () => {
    for (let i = 1; i <= 5; i += 1) {
      const res = await request(op.app).post('/api/auth/login').set(from(`2001:db8:77:4200::${i}`)).send({ password: `Wrong pass ${i}!` });
      expect(res.status).toBe(401);
    }
    const blocked = await request(op.app).post('/api/auth/login').set(from('2001:db8:77:42ff::99')).send({ password: PASSWORD });
    expect(blocked.status).toBe(429);
    const elsewhere = await request(op.app).post('/api/auth/login').set(from('2001:db8:77:4300::1')).send({ password: PASSWORD });
    expect(elsewhere.status).toBe(200);
  });

  it('does not count successful logins as failures', async () => {
    const client = from('198.51.100.30');
    for (let i = 0; i < 8; i += 1) {
      const res = await request(op.app).post('/api/auth/login').set(client).send({ password: PASSWORD });
      expect(res.status).toBe(200);
    }
  });

  it('rejects malformed and oversized auth bodies with 400', async () => {
    const broken = await request(op.app)
      .post('/api/auth/login')
      .set(from('192.0.2.10'))
      .set('Content-Type', 'application/json')
      .send('{"password":');
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('ERR_BAD_REQUEST');
    const huge = await request(op.app).post('/api/auth/login').set(from('192.0.2.10')).send({ password: 'x'.repeat(20_000) });
    expect(huge.status).toBe(400);
    expect(huge.body).toEqual({ code: 'ERR_BAD_REQUEST', error: 'The request body must be a JSON object of at most 16 KB.' });
    const missing = await request(op.app).post('/api/auth/login').set(from('192.0.2.10')).send({});
    expect(missing.body).toEqual({ code: 'ERR_BAD_REQUEST', error: 'password must be a string.' });
  });

  describe('password change', () => {
    it('needs a session', async () => {
      const res = await request(op.app)
        .put('/api/auth/password')
        .send({ current_password: PASSWORD, new_password: NEW_PASSWORD });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_AUTH_SESSION_REQUIRED');
    });

    it('rejects a wrong current password with 401 and a weak new one with 400', async () => {
      const { pair } = sessionCookie(await request(op.app).post('/api/auth/login').set(from('192.0.2.11')).send({ password: PASSWORD }));
      const wrong = await request(op.app)
        .put('/api/auth/password')
        .set(from('192.0.2.11'))
        .set('Cookie', pair)
        .send({ current_password: 'Not it at all 1!', new_password: NEW_PASSWORD });
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('ERR_AUTH_BAD_CREDENTIALS');
      const weak = await request(op.app)
        .put('/api/auth/password')
        .set(from('192.0.2.11'))
        .set('Cookie', pair)
        .send({ current_password: PASSWORD, new_password: 'NoDigitsHere!!' });
      expect(weak.status).toBe(400);
      expect(weak.body).toEqual({ code: 'ERR_AUTH_WEAK_PASSWORD', error: 'Password must contain a digit.' });
    });

    it('rotates the session secret, ending every session, and takes the new password', async () => {
      const secretBefore = await op.deps.db.knex.withSchema(op.schema).table('settings').where({ key: 'session_secret' }).first();
      const a = sessionCookie(await request(op.app).post('/api/auth/login').set(from('192.0.2.12')).send({ password: PASSWORD })).pair;
      const b = sessionCookie(await request(op.app).post('/api/auth/login').set(from('192.0.2.13')).send({ password: PASSWORD })).pair;
      const res = await request(op.app)
        .put('/api/auth/password')
        .set(from('192.0.2.12'))
        .set('Cookie', a)
        .send({ current_password: PASSWORD, new_password: NEW_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true });
      const secretAfter = await op.deps.db.knex.withSchema(op.schema).table('settings').where({ key: 'session_secret' }).first();
      expect(secretAfter.value).toMatch(/^[0-9a-f]{64}$/);
      expect(secretAfter.value).not.toBe(secretBefore.value);
      for (const cookie of [a, b]) {
        expect((await request(op.app).get('/api/auth/session').set('Cookie', cookie)).status).toBe(401);
      }
      expect((await request(op.app).post('/api/auth/login').set(from('192.0.2.14')).send({ password: PASSWORD })).status).toBe(401);
      expect((await request(op.app).post('/api/auth/login').set(from('192.0.2.14')).send({ password: NEW_PASSWORD })).status).toBe(200);
    });
  });
});

describe('operator auth behind no trusted proxy', () => {
  let op: OperatorApp;
  beforeAll(async () => {
    op = await startOperatorApp({ TESSERA_AUTH: 'local', TESSERA_LOGIN_MAX_FAILURES: '2' });
    await request(op.app).post('/api/auth/setup').send({ password: PASSWORD });
  });
  afterAll(async () => op.close());

  it('ignores a spoofed X-Forwarded-For, so rotating it does not escape the login limit', async () => {
    for (const ip of ['203.0.113.1', '203.0.113.2']) {
      const res = await request(op.app).post('/api/auth/login').set('X-Forwarded-For', ip).send({ password: 'Wrong pass 1!' });
      expect(res.status).toBe(401);
    }
    const res = await request(op.app).post('/api/auth/login').set('X-Forwarded-For', '203.0.113.3').send({ password: PASSWORD });
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('operator auth with TESSERA_HTTPS=false', () => {
  let op: OperatorApp;
  beforeAll(async () => {
    op = await startOperatorApp({ TESSERA_AUTH: 'password', TESSERA_PASSWORD: 'shared secret', TESSERA_HTTPS: 'false', TESSERA_SESSION_DAYS: '2' });
  });
  afterAll(async () => op.close());

  it('drops only the Secure flag and takes Max-Age from the session days', async () => {
    const res = await request(op.app).post('/api/auth/login').send({ password: 'shared secret' });
    expect(res.status).toBe(200);
    const { attributes } = sessionCookie(res);
    expect(attributes).toEqual(expect.arrayContaining(['Max-Age=172800', 'Path=/', 'HttpOnly', 'SameSite=Strict']));
    expect(attributes).not.toContain('Secure');
  });
});

describe('operator auth in password mode', () => {
  let op: OperatorApp;
  beforeAll(async () => {
    op = await startOperatorApp({ TESSERA_AUTH: 'password', TESSERA_PASSWORD: 'shared secret' });
  });
  afterAll(async () => op.close());

  it('needs no setup', async () => {
    const res = await request(op.app).get('/api/auth/status');
    expect(res.body).toEqual({ mode: 'password', setup_required: false, authenticated: false });
  });

  it('logs in with the shared password and rejects any other', async () => {
    expect((await request(op.app).post('/api/auth/login').send({ password: 'shared secret' })).status).toBe(200);
    expect((await request(op.app).post('/api/auth/login').send({ password: 'shared secreT' })).status).toBe(401);
    expect((await request(op.app).post('/api/auth/login').send({ password: 'shared secret ' })).status).toBe(401);
  });

  it('answers 405 to setup and to a password change', async () => {
    const setup = await request(op.app).post('/api/auth/setup').send({ password: PASSWORD });
    expect(setup.status).toBe(405);
    expect(setup.body).toEqual({ code: 'ERR_AUTH_METHOD_NOT_ALLOWED', error: 'Setup is only available when TESSERA_AUTH=local.' });
    const change = await request(op.app).put('/api/auth/password').send({ current_password: 'shared secret', new_password: NEW_PASSWORD });
    expect(change.status).toBe(405);
    expect(change.body.code).toBe('ERR_AUTH_METHOD_NOT_ALLOWED');
  });
});

describe('operator auth in none mode', () => {
  let op: OperatorApp;
  beforeAll(async () => {
    op = await startOperatorApp({ TESSERA_AUTH: 'none' });
  });
  afterAll(async () => op.close());

  it.each([
    ['get', '/api/auth/status'],
    ['post', '/api/auth/setup'],
    ['post', '/api/auth/login'],
    ['post', '/api/auth/logout'],
    ['get', '/api/auth/session'],
    ['put', '/api/auth/password'],
    ['get', '/api/keys'],
    ['post', '/api/keys'],
    ['delete', '/api/keys/key_0123456789'],
  ] as const)('answers %s %s with 404', async (method, path) => {
    const res = await request(op.app)[method](path).send({});
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('ERR_NOT_FOUND');
  });
});
