/**
 * Class: the operator API and token lifetimes in production. First-run setup needs the one-time
 * setup token before the body is read; failed setup attempts never lock the admin out of login;
 * cookie-authenticated writes from another site are refused; tokens must expire, within the
 * configured lifetime.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperatorApp, type OperatorApp } from '../operator/operator-fixtures.js';
import { createTestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const PASSWORD = 'Production admin 9#';
const SETUP_TOKEN = 'setup-token-for-the-security-suite-0123';

const productionApp = (env: Record<string, string | undefined> = {}): Promise<OperatorApp> =>
  startOperatorApp({ NODE_ENV: 'production', TESSERA_AUTH: 'local', ...env });

describe('first-run setup in production', () => {
  let prod: OperatorApp;
  beforeAll(async () => {
    prod = await productionApp({ TESSERA_SETUP_TOKEN: SETUP_TOKEN });
  });
  afterAll(async () => prod?.close());

  it('answers 401 without the setup token, before reading the body, whoever the client is', async () => {
    for (const send of [(r: request.Test) => r.send({ password: PASSWORD }), (r: request.Test) => r.set('Content-Type', 'application/json').send('{not json')]) {
      const res = await send(request(prod.app).post('/api/auth/setup').set('X-Forwarded-For', '127.0.0.1'));
      expect([res.status, res.body]).toEqual([
        401,
        { error: 'First-run setup needs the one-time setup token in the X-Setup-Token header.', code: 'ERR_AUTH_SETUP_TOKEN' },
      ]);
    }
    const wrong = await request(prod.app).post('/api/auth/setup').set('X-Setup-Token', `${SETUP_TOKEN}x`).send({ password: PASSWORD });
    expect(wrong.status).toBe(401);
  });

  it('never counts failed setup attempts against login', async () => {
    expect((await request(prod.app).post('/api/auth/setup').send({ password: 'Guess pass 1!' })).status).toBe(401);
    const setup = await request(prod.app).post('/api/auth/setup').set('X-Setup-Token', SETUP_TOKEN).send({ password: PASSWORD });
    expect(setup.status).toBe(201);
    for (let i = 0; i < 8; i += 1) await request(prod.app).post('/api/auth/setup').send({ password: 'Guess pass 2!' });
    const login = await request(prod.app).post('/api/auth/login').send({ password: PASSWORD });
    expect(login.status).toBe(200);
  });
});

describe('a generated setup token', () => {
  it('is written once to a file only the server user can read, and works as X-Setup-Token', async () => {
    const prod = await productionApp();
    try {
      const file = path.join(prod.config.dataDir ?? '', 'setup-token');
      // The token is prepared at start, while no admin exists.
      await expect.poll(() => existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = readFileSync(file, 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      const setup = await request(prod.app).post('/api/auth/setup').set('X-Setup-Token', token).send({ password: PASSWORD });
      expect(setup.status).toBe(201);
      expect(existsSync(file)).toBe(false);
    } finally {
      await prod.close();
    }
  });
});

describe('cookie-authenticated writes', () => {
  let prod: OperatorApp;
  let cookie: string;
  beforeAll(async () => {
    prod = await productionApp({ TESSERA_SETUP_TOKEN: SETUP_TOKEN });
    await request(prod.app).post('/api/auth/setup').set('X-Setup-Token', SETUP_TOKEN).send({ password: PASSWORD });
    const login = await request(prod.app).post('/api/auth/login').send({ password: PASSWORD });
    cookie = String(login.headers['set-cookie']?.[0]).split(';')[0] ?? '';
  });
  afterAll(async () => prod?.close());

  const CROSS_SITE = { error: 'Cross-site requests to the operator API are refused.', code: 'ERR_AUTH_CROSS_SITE' };

  it('refuses a key creation from another Origin', async () => {
    const res = await request(prod.app)
      .post('/api/keys')
      .set('Cookie', cookie)
      .set('Origin', 'http://evil.example')
      .send({ name: 'stolen', scopes: ['query'], securityContext: { tenant_id: 1 } });
    expect([res.status, res.body]).toEqual([403, CROSS_SITE]);
    const list = await request(prod.app).get('/api/keys').set('Cookie', cookie);
    expect(list.body.keys).toEqual([]);
  });

  it('refuses a cross-site form post to logout, and the session stays', async () => {
    const res = await request(prod.app)
      .post('/api/auth/logout')
      .set('Cookie', cookie)
      .set('Sec-Fetch-Site', 'cross-site')
      .type('form')
      .send('x=1');
    expect([res.status, res.body]).toEqual([403, CROSS_SITE]);
    expect((await request(prod.app).get('/api/auth/session').set('Cookie', cookie)).status).toBe(200);
  });

  it('refuses an Origin of null and a same-site subdomain', async () => {
    for (const headers of [{ Origin: 'null' }, { 'Sec-Fetch-Site': 'same-site' }]) {
      const res = await request(prod.app).delete('/api/keys/key_aaaaaaaaaa').set('Cookie', cookie).set(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
  });

  it('accepts writes from its own origin and from clients that send no browser headers', async () => {
    const own = await request(prod.app)
      .post('/api/keys')
      .set('Cookie', cookie)
      .set('Host', 'tessera.test')
      .set('Origin', 'http://tessera.test')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ name: 'own page', scopes: ['query'], securityContext: { tenant_id: 1 } });
    expect(own.status).toBe(201);
    const cli = await request(prod.app).post('/api/keys').set('Cookie', cookie).send({ name: 'curl', scopes: ['query'], securityContext: { tenant_id: 2 } });
    expect(cli.status).toBe(201);
  });
});

describe('token lifetimes in production', () => {
  let prod: OperatorApp;
  beforeAll(async () => {
    prod = await productionApp({ TESSERA_JWT_MAX_LIFETIME_SEC: '3600' });
  });
  afterAll(async () => prod?.close());

  const load = (token: string) =>
    request(prod.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Products.count'] }) }).set('Authorization', token);

  it('refuses a token without exp', async () => {
    const res = await load(signToken({ sub: 'forever', tenant_id: 1 }, { expiresIn: null }));
    expect([res.status, res.body]).toEqual([403, { error: 'Invalid token', code: 'ERR_AUTH_INVALID_TOKEN' }]);
  });

  it('refuses a token that lives longer than the configured maximum, and accepts a shorter one', async () => {
    expect((await load(signToken({ sub: 'long', tenant_id: 1 }, { expiresIn: '2h' }))).status).toBe(403);
    expect((await load(signToken({ sub: 'short', tenant_id: 1 }, { expiresIn: '30m' }))).status).toBe(200);
  });

  it('measures the lifetime from a back-dated iat too', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await load(signToken({ sub: 'old', tenant_id: 1, iat: now - 7200, exp: now + 600 }, { expiresIn: null }));
    expect(res.status).toBe(403);
  });

  it('accepts a token without exp outside production', async () => {
    const dev = await createTestApp();
    try {
      const res = await request(dev.app)
        .get('/cubejs-api/v1/load')
        .query({ query: JSON.stringify({ measures: ['Products.count'] }) })
        .set('Authorization', signToken({ sub: 'forever' }, { expiresIn: null }));
      expect(res.status).toBe(200);
    } finally {
      await dev.close();
    }
  });
});
