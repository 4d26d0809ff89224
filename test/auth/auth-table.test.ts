/**
 * Issue 3 §7: one table of (token, config) → exact (status, body code), in the
 * style of Hasura's JWT tests, over HTTP against the real app and PostgreSQL.
 * JWKS cases use a key server on 127.0.0.1 with generated RSA and EC keys.
 */
import { createHmac } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors/engine-error.js';
import { createTestApp, REPO_ROOT, type TestApp, type TestAppOptions } from '../support/test-app.js';
import { rawToken, signToken, TEST_SECRET, userToken } from '../support/tokens.js';
import { generateKey, signWith, startJwksServer, type JwksServer } from './support/jwks-server.js';

const NS = 'https://tessera.test/claims';
const OLD_SECRET = 'tessera-old-secret-0123456789abcdefgh';
const AUTH0_ISSUER = 'https://tenant.auth0.test/';
const AUTH0_AUDIENCE = 'https://api.tessera.test';
const COGNITO_ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test';

const rsa = generateKey('rsa-key-1');
const ec = generateKey('ec-key-1', 'ES256');
const stranger = generateKey('rsa-key-1'); // same kid, key not in the set

const now = () => Math.floor(Date.now() / 1000);
/** Claims with `undefined` extras removed, so a case can drop a claim. */
const claims = (base: Record<string, unknown>, extra: Record<string, unknown>) =>
  Object.fromEntries(Object.entries({ ...base, ...extra }).filter(([, v]) => v !== undefined));
const auth0 = (extra: Record<string, unknown> = {}) => claims({
  iss: AUTH0_ISSUER,
  sub: 'auth0|42',
  aud: [AUTH0_AUDIENCE, `${AUTH0_ISSUER}userinfo`],
  iat: now() - 5,
  exp: now() + 600,
  scope: 'openid',
  [NS]: { tenant_id: 2, u: { id: 42 } },
}, extra);
const cognito = (extra: Record<string, unknown> = {}) => claims({
  sub: 'c0ffee',
  iss: COGNITO_ISSUER,
  client_id: 'app-client-1',
  token_use: 'access',
  'cognito:groups': ['analysts'],
  username: 'alice',
  tenant_id: 2,
  u: { id: 42 },
  iat: now() - 5,
  exp: now() + 600,
}, extra);
const hmac = (input: string, secret: string) => createHmac('sha256', secret).update(input).digest('base64url');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** HS256 over any header and payload text, signed with a real secret. */
const signedRaw = (header: object, payloadJson: string, secret = TEST_SECRET) => {
  const input = `${b64(header)}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${input}.${hmac(input, secret)}`;
};

/** The checkAuth hook of the `checkAuth` app: it behaves according to the token text. */
const CHECK_AUTH_CONFIG = `
import { AuthError } from ${JSON.stringify(path.join(REPO_ROOT, 'src', 'index.js'))};
const context = { tenant_id: 2, u: { id: 42 } };
export default {
  checkAuth: async (req, auth) => {
    switch (auth) {
      case undefined: throw new AuthError(401, 'Sign in first');
      case 'set-context': req.securityContext = context; return;
      case 'set-authinfo': req.authInfo = context; return;
      case 'return-context': return { security_context: context };
      case 'auth-error': throw new AuthError(401, 'Custom denial');
      case 'teapot': throw new AuthError(418, 'No tea for you');
      case 'crash': throw new TypeError("Cannot read properties of undefined (reading 'x')");
      case 'string-context': req.securityContext = 'tenant-2'; return;
      case 'array-context': req.securityContext = [2]; return;
      default: return;
    }
  },
};`;

const SCHEMA_CONFIG = `
import { z } from 'zod';
export default { securityContextSchema: z.object({ tenant_id: z.number().int().positive(), id: z.number().int() }) };`;

type AppName =
  | 'secret'
  | 'rotation'
  | 'dev'
  | 'devFlag'
  | 'tolerance'
  | 'smallTokens'
  | 'namespace'
  | 'issuer'
  | 'schema'
  | 'auth0'
  | 'cognito'
  | 'mixed'
  | 'jwksDown'
  | 'checkAuth';

let jwks: JwksServer;
let deadJwksUrl: string;

function appOptions(name: AppName): TestAppOptions {
  const noSecret = { CUBEJS_API_SECRET: undefined };
  const options: Record<AppName, () => TestAppOptions> = {
    secret: () => ({}),
    rotation: () => ({ env: { ...noSecret, CUBEJS_API_SECRETS: `${OLD_SECRET},${TEST_SECRET}` } }),
    dev: () => ({ env: noSecret }),
    devFlag: () => ({ env: { CUBEJS_DEV_MODE: 'true' } }),
    tolerance: () => ({ env: { TESSERA_JWT_CLOCK_TOLERANCE_SEC: '60' } }),
    smallTokens: () => ({ env: { TESSERA_MAX_TOKEN_BYTES: '512' } }),
    namespace: () => ({ env: { CUBEJS_JWT_CLAIMS_NAMESPACE: NS } }),
    issuer: () => ({ env: { CUBEJS_JWT_ISSUER: 'https://issuer.test/', CUBEJS_JWT_AUDIENCE: 'tessera' } }),
    schema: () => ({ configFile: { name: 'tessera.config.mjs', source: SCHEMA_CONFIG } }),
    auth0: () => ({
      env: {
        ...noSecret,
        CUBEJS_JWK_URL: jwks.url,
        CUBEJS_JWT_ISSUER: AUTH0_ISSUER,
        CUBEJS_JWT_AUDIENCE: AUTH0_AUDIENCE,
        CUBEJS_JWT_CLAIMS_NAMESPACE: NS,
        CUBEJS_JWT_ALGS: 'RS256,ES256',
      },
    }),
    cognito: () => ({
      env: {
        ...noSecret,
        CUBEJS_JWK_URL: jwks.url,
        CUBEJS_JWT_ISSUER: COGNITO_ISSUER,
        TESSERA_JWT_CLIENT_ID: 'app-client-1',
        TESSERA_JWT_TOKEN_USE: 'access',
      },
    }),
    mixed: () => ({ env: { CUBEJS_JWK_URL: jwks.url } }),
    jwksDown: () => ({ env: { ...noSecret, CUBEJS_JWK_URL: deadJwksUrl } }),
    checkAuth: () => ({ configFile: { name: 'tessera.config.mjs', source: CHECK_AUTH_CONFIG } }),
  };
  return options[name]();
}

interface Case {
  readonly app: AppName;
  readonly name: string;
  /** Request headers; built at run time so exp/nbf are relative to now. */
  readonly headers: () => Record<string, string>;
  readonly status: number;
  readonly code?: ErrorCode;
  readonly error?: string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const raw = (token: string) => ({ authorization: token });

const INVALID = { status: 403, code: 'ERR_AUTH_INVALID_TOKEN', error: 'Invalid token' } as const;
const EXPIRED = { status: 403, code: 'ERR_AUTH_TOKEN_EXPIRED', error: 'Token expired' } as const;
const MISSING = { status: 403, code: 'ERR_AUTH_MISSING', error: "Authorization header isn't set" } as const;
const OK = { status: 200 } as const;
const AMBIGUOUS = {
  status: 400,
  code: 'ERR_AUTH_AMBIGUOUS_CREDENTIALS',
  error: 'The request must carry exactly one credential, in one header',
} as const;
const ordersClaimsMissing = {
  status: 403,
  code: 'ERR_AUTH_CLAIMS_MISSING',
  error: 'Access denied: cube Orders filters its rows by the security context claims id, tenant_id, and this security context has none of them',
} as const;
const notObject = (what: string, got: string) =>
  ({ status: 403, code: 'ERR_AUTH_CONTEXT_NOT_OBJECT', error: `${what} must be a JSON object, got ${got}` }) as const;

const CASES: readonly Case[] = [
  // Where the token comes from (issue 2 §5).
  { app: 'secret', name: 'no token at all', headers: () => ({}), ...MISSING },
  { app: 'secret', name: 'a raw token, as the Cube client sends it', headers: () => raw(userToken(42)), ...OK },
  { app: 'secret', name: 'a Bearer token', headers: () => bearer(userToken(42)), ...OK },
  {
    app: 'secret',
    name: 'x-cube-authorization and a different Authorization are two security contexts',
    headers: () => ({ 'x-cube-authorization': userToken(42), authorization: 'Bearer garbage' }),
    ...AMBIGUOUS,
  },
  {
    app: 'secret',
    name: 'x-cube-authorization and Authorization carrying the same token',
    headers: () => {
      const token = userToken(42);
      return { 'x-cube-authorization': token, authorization: `Bearer ${token}` };
    },
    ...OK,
  },
  { app: 'secret', name: '"Bearer" with two spaces is a missing token', headers: () => raw(`Bearer  ${userToken(42)}`), ...MISSING },
  { app: 'secret', name: 'the legacy u claim', headers: () => raw(signToken({ u: { id: 42 }, tenant_id: 2 })), ...OK },

  // HS256 attacks and mistakes (issue 2 §6, issue 3 §3).
  { app: 'secret', name: 'another secret', headers: () => raw(userToken(42, { secret: OLD_SECRET })), ...INVALID },
  { app: 'secret', name: 'an expired token', headers: () => raw(userToken(42, { expiresIn: '-10s' })), ...EXPIRED },
  {
    app: 'secret',
    name: 'a token not valid yet',
    headers: () => raw(userToken(42, { notBefore: '1h' })),
    status: 403,
    code: 'ERR_AUTH_INVALID_TOKEN',
    error: 'Token is not valid yet',
  },
  { app: 'secret', name: 'alg none', headers: () => raw(rawToken({ alg: 'none', typ: 'JWT' }, { u: { id: 1 } })), ...INVALID },
  { app: 'secret', name: 'alg "nOnE"', headers: () => raw(rawToken({ alg: 'nOnE', typ: 'JWT' }, { u: { id: 1 } })), ...INVALID },
  { app: 'secret', name: 'HS512 with the right secret', headers: () => raw(userToken(42, { algorithm: 'HS512' })), ...INVALID },
  { app: 'secret', name: 'HS384 with the right secret', headers: () => raw(userToken(42, { algorithm: 'HS384' })), ...INVALID },
  {
    app: 'secret',
    name: 'a payload changed after signing',
    headers: () => {
      const [h, , s] = userToken(42).split('.');
      return raw(`${h}.${b64({ u: { id: 7 }, tenant_id: 2 })}.${s}`);
    },
    ...INVALID,
  },
  { app: 'secret', name: 'a word that is not a JWT', headers: () => raw('hello'), ...INVALID },
  { app: 'secret', name: 'JSON-serialised JWS', headers: () => raw('{"payload":"e30","signature":"x"}'), ...INVALID },
  { app: 'secret', name: 'five parts (a JWE)', headers: () => raw('a.b.c.d.e'), ...INVALID },
  {
    app: 'secret',
    name: 'a signed token with a jku header',
    headers: () => raw(signedRaw({ alg: 'HS256', typ: 'JWT', jku: 'http://127.0.0.1:9/keys' }, '{"tenant_id":2}')),
    ...INVALID,
  },
  { app: 'secret', name: 'a string payload', headers: () => raw(signToken('tenant-2')), ...notObject('The token payload', 'a string') },
  { app: 'secret', name: 'an array payload', headers: () => raw(signedRaw({ alg: 'HS256', typ: 'JWT' }, '[1,2]')), ...notObject('The token payload', 'an array') },
  { app: 'secret', name: 'a number payload', headers: () => raw(signedRaw({ alg: 'HS256', typ: 'JWT' }, '42')), ...notObject('The token payload', 'a number') },
  { app: 'secret', name: 'a null payload', headers: () => raw(signedRaw({ alg: 'HS256', typ: 'JWT' }, 'null')), ...notObject('The token payload', 'null') },
  { app: 'secret', name: 'a u claim that is a number', headers: () => raw(signToken({ u: 42 })), ...notObject('The legacy u claim', 'a number') },

  // Rotation (issue 3 §4).
  { app: 'rotation', name: 'the old secret during rotation', headers: () => raw(userToken(42, { secret: OLD_SECRET })), ...OK },
  { app: 'rotation', name: 'the new secret during rotation', headers: () => raw(userToken(42)), ...OK },
  { app: 'rotation', name: 'a third secret during rotation', headers: () => raw(userToken(42, { secret: 'x'.repeat(40) })), ...INVALID },

  // Clock tolerance and size.
  { app: 'tolerance', name: 'expired 10 s ago within 60 s tolerance', headers: () => raw(userToken(42, { expiresIn: '-10s' })), ...OK },
  { app: 'tolerance', name: 'expired 2 min ago beyond 60 s tolerance', headers: () => raw(userToken(42, { expiresIn: '-120s' })), ...EXPIRED },
  { app: 'smallTokens', name: 'a token under TESSERA_MAX_TOKEN_BYTES', headers: () => raw(userToken(42)), ...OK },
  {
    app: 'smallTokens',
    name: 'a token over TESSERA_MAX_TOKEN_BYTES',
    headers: () => raw(userToken(42, { extra: { pad: 'x'.repeat(600) } })),
    ...INVALID,
  },

  // Dev mode (issue 2 §5).
  // Issue 12: the empty dev context has none of the claims Orders filters by, so it is refused rather than matching all rows.
  { app: 'dev', name: 'dev mode without a token', headers: () => ({}), ...ordersClaimsMissing },
  { app: 'dev', name: 'dev mode with garbage', headers: () => raw('garbage'), ...INVALID },
  { app: 'dev', name: 'dev mode without a secret to verify a token', headers: () => raw(userToken(42)), ...INVALID },
  { app: 'devFlag', name: 'CUBEJS_DEV_MODE without a token', headers: () => ({}), ...ordersClaimsMissing },
  { app: 'devFlag', name: 'CUBEJS_DEV_MODE with a valid token', headers: () => raw(userToken(42)), ...OK },
  { app: 'devFlag', name: 'CUBEJS_DEV_MODE with a token of another secret', headers: () => raw(userToken(42, { secret: OLD_SECRET })), ...INVALID },

  // Claims namespace, issuer and audience on HS256.
  { app: 'namespace', name: 'the namespace claim', headers: () => raw(signToken({ [NS]: { tenant_id: 2, u: { id: 42 } } })), ...OK },
  {
    app: 'namespace',
    name: 'no namespace claim',
    headers: () => raw(userToken(42)),
    status: 403,
    code: 'ERR_AUTH_CONTEXT_INVALID',
    error: `The security context has no claims namespace ${NS}`,
  },
  { app: 'namespace', name: 'a namespace claim that is a string', headers: () => raw(signToken({ [NS]: 'admin' })), ...notObject(`The claims namespace ${NS}`, 'a string') },
  { app: 'issuer', name: 'the configured iss and aud', headers: () => raw(userToken(42, { extra: { iss: 'https://issuer.test/', aud: 'tessera' } })), ...OK },
  { app: 'issuer', name: 'no iss', headers: () => raw(userToken(42, { extra: { aud: 'tessera' } })), ...INVALID },
  { app: 'issuer', name: 'no aud', headers: () => raw(userToken(42, { extra: { iss: 'https://issuer.test/' } })), ...INVALID },
  { app: 'issuer', name: 'a foreign aud', headers: () => raw(userToken(42, { extra: { iss: 'https://issuer.test/', aud: 'other' } })), ...INVALID },

  // securityContextSchema (issue 3 §4).
  { app: 'schema', name: 'a context matching the schema', headers: () => raw(userToken(42)), ...OK },
  {
    app: 'schema',
    name: 'a context with a string tenant_id',
    headers: () => raw(signToken({ u: { id: 42 }, tenant_id: '2' })),
    status: 403,
    code: 'ERR_AUTH_CONTEXT_INVALID',
    error: 'Security context claim tenant_id is invalid: Invalid input: expected number, received string',
  },
  {
    app: 'schema',
    name: 'a context without the user id',
    headers: () => raw(signToken({ tenant_id: 2 })),
    status: 403,
    code: 'ERR_AUTH_CONTEXT_INVALID',
    error: 'Security context claim id is invalid: Invalid input: expected number, received undefined',
  },

  // JWKS, Auth0-shaped (issue 3 §3).
  { app: 'auth0', name: 'an Auth0 RS256 token', headers: () => bearer(signWith(rsa, auth0())), ...OK },
  { app: 'auth0', name: 'an ES256 token (allowed by CUBEJS_JWT_ALGS)', headers: () => bearer(signWith(ec, auth0())), ...OK },
  { app: 'auth0', name: 'an Auth0 token without iss', headers: () => bearer(signWith(rsa, auth0({ iss: undefined }))), ...INVALID },
  { app: 'auth0', name: 'an Auth0 token of another issuer', headers: () => bearer(signWith(rsa, auth0({ iss: 'https://evil.test/' }))), ...INVALID },
  { app: 'auth0', name: 'an Auth0 token without aud', headers: () => bearer(signWith(rsa, auth0({ aud: undefined }))), ...INVALID },
  { app: 'auth0', name: 'an Auth0 token for another API', headers: () => bearer(signWith(rsa, auth0({ aud: 'https://other.test' }))), ...INVALID },
  {
    app: 'auth0',
    name: 'an Auth0 token without the claims namespace',
    headers: () => bearer(signWith(rsa, auth0({ [NS]: undefined }))),
    status: 403,
    code: 'ERR_AUTH_CONTEXT_INVALID',
    error: `The security context has no claims namespace ${NS}`,
  },
  { app: 'auth0', name: 'an expired JWKS token', headers: () => bearer(signWith(rsa, auth0({ exp: now() - 10 }))), ...EXPIRED },
  { app: 'auth0', name: 'a JWKS token not valid yet', headers: () => bearer(signWith(rsa, auth0({ nbf: now() + 600 }))), status: 403, code: 'ERR_AUTH_INVALID_TOKEN', error: 'Token is not valid yet' },
  { app: 'auth0', name: 'a JWKS token without exp', headers: () => bearer(signWith(rsa, auth0({ exp: undefined }))), ...INVALID },
  { app: 'auth0', name: 'an unknown kid', headers: () => bearer(signWith(rsa, auth0(), { kid: 'rotated-away' })), ...INVALID },
  { app: 'auth0', name: 'a kid with a path', headers: () => bearer(signWith(rsa, auth0(), { kid: '../../../../dev/null' })), ...INVALID },
  { app: 'auth0', name: 'a kid with SQL', headers: () => bearer(signWith(rsa, auth0(), { kid: "' UNION SELECT 'key' --" })), ...INVALID },
  { app: 'auth0', name: 'a jku header', headers: () => bearer(signWith(rsa, auth0(), { header: { jku: 'http://127.0.0.1:9/jwks.json' } })), ...INVALID },
  { app: 'auth0', name: 'an x5u header', headers: () => bearer(signWith(rsa, auth0(), { header: { x5u: 'http://127.0.0.1:9/cert.pem' } })), ...INVALID },
  { app: 'auth0', name: 'a key that is not in the set, reusing its kid', headers: () => bearer(signWith(stranger, auth0())), ...INVALID },
  {
    app: 'auth0',
    name: 'HS256 signed with the RSA public key as the secret',
    headers: () => bearer(signedRaw({ alg: 'HS256', typ: 'JWT', kid: rsa.kid }, JSON.stringify(auth0()), rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string)),
    ...INVALID,
  },
  { app: 'auth0', name: 'an HS256 token when only JWKS is configured', headers: () => bearer(userToken(42)), ...INVALID },
  {
    app: 'auth0',
    name: 'a tampered RS256 signature',
    headers: () => {
      const [h, p, s = ''] = signWith(rsa, auth0()).split('.');
      return bearer(`${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`);
    },
    ...INVALID,
  },

  // Cognito access tokens (issue 3 §3).
  { app: 'cognito', name: 'a Cognito access token of our app client', headers: () => bearer(signWith(rsa, cognito())), ...OK },
  { app: 'cognito', name: 'a Cognito access token of another app client', headers: () => bearer(signWith(rsa, cognito({ client_id: 'other' }))), ...INVALID },
  { app: 'cognito', name: 'a Cognito ID token', headers: () => bearer(signWith(rsa, cognito({ token_use: 'id', client_id: undefined, aud: 'app-client-1' }))), ...INVALID },
  { app: 'cognito', name: 'a Cognito token without client_id', headers: () => bearer(signWith(rsa, cognito({ client_id: undefined }))), ...INVALID },
  { app: 'cognito', name: 'a Cognito token of another pool', headers: () => bearer(signWith(rsa, cognito({ iss: `${COGNITO_ISSUER}x` }))), ...INVALID },

  // Secrets and JWKS side by side; JWKS outage.
  { app: 'mixed', name: 'HS256 when both are configured', headers: () => raw(userToken(42)), ...OK },
  { app: 'mixed', name: 'RS256 when both are configured', headers: () => bearer(signWith(rsa, { tenant_id: 2, u: { id: 42 }, exp: now() + 60 })), ...OK },
  {
    app: 'jwksDown',
    name: 'an unreachable JWKS endpoint',
    headers: () => bearer(signWith(rsa, { tenant_id: 2, exp: now() + 60 })),
    status: 503,
    code: 'ERR_AUTH_JWKS_UNAVAILABLE',
    error: 'The token signing keys could not be fetched from the JWKS endpoint; try again later',
  },

  // checkAuth (issue 3 §2).
  { app: 'checkAuth', name: 'checkAuth setting req.securityContext', headers: () => raw('set-context'), ...OK },
  { app: 'checkAuth', name: 'checkAuth setting req.authInfo', headers: () => raw('set-authinfo'), ...OK },
  { app: 'checkAuth', name: 'checkAuth returning {security_context}', headers: () => raw('return-context'), ...OK },
  { app: 'checkAuth', name: 'checkAuth without a token', headers: () => ({}), status: 401, code: 'ERR_AUTH_DENIED', error: 'Sign in first' },
  { app: 'checkAuth', name: 'checkAuth throwing AuthError(401)', headers: () => raw('auth-error'), status: 401, code: 'ERR_AUTH_DENIED', error: 'Custom denial' },
  { app: 'checkAuth', name: 'checkAuth throwing AuthError(418)', headers: () => raw('teapot'), status: 418, code: 'ERR_AUTH_DENIED', error: 'No tea for you' },
  { app: 'checkAuth', name: 'checkAuth crashing', headers: () => raw('crash'), status: 403, code: 'ERR_AUTH_DENIED', error: 'Authentication failed' },
  { app: 'checkAuth', name: 'checkAuth setting a string context', headers: () => raw('string-context'), ...notObject('The security context set by checkAuth', 'a string') },
  { app: 'checkAuth', name: 'checkAuth setting an array context', headers: () => raw('array-context'), ...notObject('The security context set by checkAuth', 'an array') },
  { app: 'checkAuth', name: 'checkAuth setting no context', headers: () => raw('nothing'), ...notObject('The security context set by checkAuth', 'nothing') },
];

const apps = new Map<AppName, TestApp>();

beforeAll(async () => {
  jwks = await startJwksServer([rsa, ec]);
  const dead = await startJwksServer([]);
  deadJwksUrl = dead.url;
  await dead.close();
  const names = [...new Set(CASES.map((c) => c.app))];
  for (const name of names) apps.set(name, await createTestApp(appOptions(name)));
});

afterAll(async () => {
  for (const app of apps.values()) await app.close();
  await jwks?.close();
});

const LOAD_QUERY = JSON.stringify({ measures: ['Orders.count'] });

describe('authentication table: (token, config) → (status, code) on /cubejs-api/v1/load', () => {
  it.each(CASES.map((c) => [`${c.app}: ${c.name}`, c] as const))('%s', async (_, c) => {
    const t = apps.get(c.app);
    if (!t) throw new Error(`no app ${c.app}`);
    const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: LOAD_QUERY }).set(c.headers());
    if (c.status === 200) {
      expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200, body: { data: [{}] } });
    } else {
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: c.status,
        body: { error: c.error, code: c.code, ...(c.status >= 500 ? { requestId: expect.any(String) } : {}) },
      });
    }
  });

  it('logs why a token was refused and why checkAuth failed, but never the token', async () => {
    const lines: string[] = [];
    const logged = await createTestApp({
      configFile: { name: 'tessera.config.mjs', source: CHECK_AUTH_CONFIG },
      env: { LOG_LEVEL: 'info' },
      logDestination: { write: (line) => void lines.push(line) },
    });
    const plain = await createTestApp({ env: { LOG_LEVEL: 'info' }, logDestination: { write: (line) => void lines.push(line) } });
    try {
      const forged = userToken(42, { secret: OLD_SECRET });
      await request(plain.app).get('/cubejs-api/v1/load').query({ query: LOAD_QUERY }).set(raw(forged));
      await request(logged.app).get('/cubejs-api/v1/load').query({ query: LOAD_QUERY }).set(raw('crash'));
      const log = lines.join('\n');
      expect(log).toContain('invalid signature');
      expect(log).toContain("Cannot read properties of undefined (reading 'x')");
      for (const part of forged.split('.')) expect(log).not.toContain(part);
    } finally {
      await logged.close();
      await plain.close();
    }
  });

  it('never answers with the token, whatever the failure', async () => {
    const t = apps.get('secret') as TestApp;
    const token = userToken(42, { secret: OLD_SECRET });
    const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: LOAD_QUERY }).set(raw(token));
    expect(JSON.stringify(res.body)).not.toContain(token.split('.')[1]);
  });
});
