/**
 * The Cognito `checkAuth` example (examples/cognito-check-auth) loaded as a real
 * config file, against a local JWKS server standing in for the user pool.
 */
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, REPO_ROOT, type TestApp } from '../support/test-app.js';
import { TEST_SECRET, userToken } from '../support/tokens.js';
import { generateKey, signWith, startJwksServer, type JwksServer } from './support/jwks-server.js';

const POOL = { region: 'eu-west-1', userPoolId: 'eu-west-1_Example', clientId: 'example-client' };
const ISSUER = `https://cognito-idp.${POOL.region}.amazonaws.com/${POOL.userPoolId}`;
const poolKey = generateKey('pool-key-1');
const rotatedKey = generateKey('pool-key-2');

const now = () => Math.floor(Date.now() / 1000);
function accessToken(extra: Record<string, unknown> = {}, key = poolKey): string {
  const claims = {
    sub: 'c0ffee',
    iss: ISSUER,
    client_id: POOL.clientId,
    token_use: 'access',
    username: 'alice',
    'cognito:groups': ['analysts'],
    'custom:tenant_id': '2',
    'custom:user_id': '42',
    iat: now() - 5,
    exp: now() + 600,
    ...extra,
  };
  return signWith(key, Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)));
}

let jwks: JwksServer;
let t: TestApp;
const ORDERS = JSON.stringify({ measures: ['Orders.count'] });

beforeAll(async () => {
  jwks = await startJwksServer([poolKey]);
  // The example config reads its pool from the environment, as a deployment would.
  process.env.COGNITO_REGION = POOL.region;
  process.env.COGNITO_USER_POOL_ID = POOL.userPoolId;
  process.env.COGNITO_CLIENT_ID = POOL.clientId;
  process.env.COGNITO_JWKS_URL = jwks.url;
  t = await createTestApp({ configFile: path.join(REPO_ROOT, 'examples', 'cognito-check-auth', 'tessera.config.mjs') });
});

afterAll(async () => {
  await t?.close();
  await jwks?.close();
});

const load = (headers: Record<string, string>) =>
  request(t.app).get('/cubejs-api/v1/load').query({ query: ORDERS }).set(headers);

describe('the Cognito checkAuth example', () => {
  it("answers a pool access token with only that user's orders", async () => {
    const res = await load({ authorization: accessToken() });
    const sqlRes = await request(t.app).get('/cubejs-api/v1/sql').query({ query: ORDERS }).set({ authorization: accessToken() });
    expect(res.status).toBe(200);
    expect(sqlRes.body.sql.sql[1]).toEqual([42, 2]);
    const viaHs256 = await createTestApp();
    try {
      const same = await request(viaHs256.app).get('/cubejs-api/v1/load').query({ query: ORDERS }).set({ authorization: userToken(42) });
      expect(res.body.data).toEqual(same.body.data);
    } finally {
      await viaHs256.close();
    }
  });

  it('picks up a rotated pool key by its kid without a restart', async () => {
    jwks.setKeys([poolKey, rotatedKey]);
    const res = await load({ authorization: accessToken({}, rotatedKey) });
    expect(res.status).toBe(200);
  });

  it.each([
    ['no token', {}, 401, 'Sign in with Cognito first'],
    ['a token of another app client', { authorization: accessToken({ client_id: 'other' }) }, 401, 'Invalid Cognito token'],
    ['an ID token', { authorization: accessToken({ token_use: 'id' }) }, 401, 'Invalid Cognito token'],
    ['a token of another pool', { authorization: accessToken({ iss: `${ISSUER}x` }) }, 401, 'Invalid Cognito token'],
    ['an expired token', { authorization: accessToken({ exp: now() - 60 }) }, 401, 'Cognito token expired'],
    ['a kid the pool does not publish', { authorization: accessToken({}, generateKey('unknown-kid')) }, 401, 'Invalid Cognito token'],
    ['an HS256 token, however well signed', { authorization: userToken(42, { secret: TEST_SECRET }) }, 401, 'Invalid Cognito token'],
    ['a user without a tenant', { authorization: accessToken({ 'custom:tenant_id': undefined }) }, 403, 'This Cognito user belongs to no tenant'],
  ] as const)('answers %s with the AuthError it throws', async (_, headers, status, error) => {
    const res = await load(headers);
    expect({ status: res.status, body: res.body as unknown }).toEqual({ status, body: { error, code: 'ERR_AUTH_DENIED' } });
  });

  it('answers 503 when the pool keys cannot be fetched', async () => {
    jwks.failWith(500);
    try {
      const res = await load({ authorization: accessToken({}, generateKey('never-seen')) });
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('Cognito signing keys are unavailable; try again later');
    } finally {
      jwks.failWith(undefined);
    }
  });
});
