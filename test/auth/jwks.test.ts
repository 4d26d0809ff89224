import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthenticatorDeps } from '../../src/auth/create-authenticator.js';
import type { AuthRequest } from '../../src/server/app-deps.js';
import { generateKey, signWith, startJwksServer, type JwksServer } from './support/jwks-server.js';
import { SECRET, testConfig, type ConfigOverrides } from './support/test-config.js';
import { failure } from '../support/engine-failure.js';

const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const deps: AuthenticatorDeps = { clock: () => NOW_MS, jwks: { timeoutMs: 2_000 } };

const rsa = generateKey('rsa-1');
const rsaNext = generateKey('rsa-2');
const ec = generateKey('ec-1', 'ES256');
const rsaNoAlg = generateKey('rsa-plain', 'RS256', false);

const AUTH0_ISSUER = 'https://tenant.auth0.test/';
const NS = 'https://tessera.test/claims';
/** An Auth0 access token's claims, with the app's context under a namespace. */
const auth0Claims = {
  iss: AUTH0_ISSUER,
  sub: 'auth0|abc',
  aud: ['https://api.tessera.test', `${AUTH0_ISSUER}userinfo`],
  iat: NOW - 10,
  exp: NOW + 3600,
  scope: 'openid profile',
  [NS]: { tenant_id: 2, user_id: 42 },
};
const COGNITO_ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test';
/** A Cognito access token's claims: client_id and token_use, no aud. */
const cognitoAccess = {
  sub: 'c0ffee-1234',
  'cognito:groups': ['analysts'],
  iss: COGNITO_ISSUER,
  client_id: 'app-client-1',
  token_use: 'access',
  scope: 'aws.cognito.signin.user.admin',
  auth_time: NOW - 20,
  iat: NOW - 10,
  exp: NOW + 3600,
  jti: 'j1',
  username: 'alice',
};

let server: JwksServer;
let jkuTarget: JwksServer;

beforeAll(async () => {
  server = await startJwksServer([rsa, ec, rsaNoAlg]);
  jkuTarget = await startJwksServer([generateKey('attacker')]);
});
afterAll(async () => {
  await server.close();
  await jkuTarget.close();
});
beforeEach(() => {
  server.setKeys([rsa, ec, rsaNoAlg]);
  server.failWith(undefined);
  server.hits.clear();
  jkuTarget.hits.clear();
});

function request(token: string): AuthRequest {
  return { headers: { authorization: `Bearer ${token}` }, ip: '127.0.0.1', raw: undefined };
}

function authenticator(overrides: ConfigOverrides = {}) {
  return createAuthenticator(
    testConfig({ apiSecrets: [], ...overrides, jwt: { jwkUrl: server.url, ...overrides.jwt } }),
    deps,
  );
}

const fetches = () => server.hits.get('/.well-known/jwks.json') ?? 0;

describe('JWKS verification', () => {
  it('verifies an Auth0-shaped RS256 token and takes the context from the claims namespace', async () => {
    const auth = authenticator({ jwt: { issuer: [AUTH0_ISSUER], audience: ['https://api.tessera.test'], claimsNamespace: NS } });
    const result = await auth(request(signWith(rsa, auth0Claims)));
    expect(result).toMatchObject({ via: 'jwks', securityContext: { tenant_id: 2, user_id: 42 }, subject: 'auth0|abc' });
    expect(result.rawContext).toEqual(auth0Claims);
  });

  it('verifies a token whose key set entry names no alg', async () => {
    const result = await authenticator()(request(signWith(rsaNoAlg, { sub: 'x', exp: NOW + 60 })));
    expect(result.securityContext).toEqual({ sub: 'x', exp: NOW + 60 });
  });

  it('verifies ES256 only when jwt.algorithms allows it', async () => {
    const token = signWith(ec, { sub: 'ec-user', exp: NOW + 60 });
    expect((await authenticator({ jwt: { algorithms: ['RS256', 'ES256'] } })(request(token))).subject).toBe('ec-user');
    const error = await failure(authenticator()(request(token)));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('fetches the key set once and then serves kids from the cache', async () => {
    const auth = authenticator();
    for (let i = 0; i < 5; i++) await auth(request(signWith(rsa, { exp: NOW + 60 })));
    expect(fetches()).toBe(1);
  });

  it('refetches once for an unknown kid, so a rotated key works without a restart', async () => {
    const auth = authenticator();
    await auth(request(signWith(rsa, { exp: NOW + 60 })));
    const rotated = signWith(rsaNext, { sub: 'after-rotation', exp: NOW + 60 });
    const before = await failure(auth(request(rotated)));
    expect(before.code).toBe('ERR_AUTH_INVALID_TOKEN');
    expect(fetches()).toBe(2);

    server.setKeys([rsa, rsaNext]);
    expect((await auth(request(rotated))).subject).toBe('after-rotation');
    expect(fetches()).toBe(3);
  });

  it('rejects a kid the key set does not have', async () => {
    const error = await failure(authenticator()(request(signWith(rsa, { exp: NOW + 60 }, { kid: 'nobody' }))));
    expect([error.code, error.message]).toEqual(['ERR_AUTH_INVALID_TOKEN', 'Invalid token']);
    expect((error.cause as Error).message).toBe("Unable to find a signing key that matches 'nobody'");
  });

  it('rejects a token without kid', async () => {
    const error = await failure(authenticator()(request(signWith(rsa, { exp: NOW + 60 }, { kid: null }))));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects kids holding path or SQL characters without fetching anything', async () => {
    for (const kid of ['../../dev/null', "x' OR '1'='1", 'a;DROP TABLE users', 'a\\b', 'k--', 'a b', '']) {
      const error = await failure(authenticator()(request(signWith(rsa, { exp: NOW + 60 }, { kid }))));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
    expect(fetches()).toBe(0);
  });

  it('accepts base64 kids with / + and =, as Cognito issues them', async () => {
    const cognitoKey = { ...rsa, kid: 'aB3/cd+Ef9gh0ij=' };
    server.setKeys([cognitoKey]);
    expect((await authenticator()(request(signWith(cognitoKey, { exp: NOW + 60 })))).via).toBe('jwks');
  });

  it('rejects jku and x5u headers and never fetches them', async () => {
    for (const header of [{ jku: `${jkuTarget.origin}/.well-known/jwks.json` }, { x5u: `${jkuTarget.origin}/cert.pem` }]) {
      const error = await failure(authenticator()(request(signWith(rsa, { exp: NOW + 60 }, { header }))));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
    expect([...jkuTarget.hits.values()].reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('rejects HS256 signed with the RSA public key as the secret', async () => {
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })}.${enc({ sub: 'forged', exp: NOW + 60 })}`;
    const forged = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    expect((await failure(authenticator()(request(forged)))).code).toBe('ERR_AUTH_INVALID_TOKEN');
    // With secrets configured too, HS256 goes to the secrets, which do not include the public key.
    const both = authenticator({ apiSecrets: [SECRET] });
    expect((await failure(both(request(forged)))).code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects a token signed with PS256 by a key the key set binds to RS256', async () => {
    const auth = authenticator({ jwt: { algorithms: ['RS256', 'PS256'] } });
    const error = await failure(auth(request(signWith(rsa, { exp: NOW + 60 }, { alg: 'PS256' }))));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    expect((error.cause as Error).message).toBe("alg PS256 does not match the key's RS256");
  });

  it('rejects an RS256 token signed by a key that is not in the set but reuses its kid', async () => {
    const impostor = { ...generateKey('x'), kid: rsa.kid };
    const error = await failure(authenticator()(request(signWith(impostor, { exp: NOW + 60 }))));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects a tampered signature', async () => {
    const token = signWith(rsa, { sub: 'a', exp: NOW + 60 });
    const [h, p, s = ''] = token.split('.');
    const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    expect((await failure(authenticator()(request(flipped)))).code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects expired and not-yet-valid tokens, with the configured tolerance', async () => {
    expect((await failure(authenticator()(request(signWith(rsa, { exp: NOW - 1 }))))).code).toBe('ERR_AUTH_TOKEN_EXPIRED');
    expect((await failure(authenticator()(request(signWith(rsa, { nbf: NOW + 5, exp: NOW + 60 }))))).code).toBe(
      'ERR_AUTH_INVALID_TOKEN',
    );
    const tolerant = authenticator({ jwt: { clockToleranceSec: 10 } });
    expect((await tolerant(request(signWith(rsa, { nbf: NOW + 5, exp: NOW - 5 })))).via).toBe('jwks');
  });

  it('rejects an identity-provider token without exp', async () => {
    expect((await failure(authenticator()(request(signWith(rsa, { sub: 'forever' }))))).code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects a missing or wrong iss and aud when they are configured', async () => {
    const auth = authenticator({ jwt: { issuer: [AUTH0_ISSUER], audience: ['https://api.tessera.test'] } });
    const { iss: _iss, ...noIss } = auth0Claims;
    const { aud: _aud, ...noAud } = auth0Claims;
    for (const claims of [noIss, noAud, { ...auth0Claims, iss: 'https://evil.test/' }, { ...auth0Claims, aud: 'other' }]) {
      expect((await failure(auth(request(signWith(rsa, claims))))).code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it('picks the verifier by alg when both secrets and a JWKS URL are configured', async () => {
    const both = authenticator({ apiSecrets: [SECRET] });
    const hs = jwt.sign({ sub: 'hs' }, SECRET, { algorithm: 'HS256' });
    expect(await both(request(hs))).toMatchObject({ via: 'jwt', subject: 'hs' });
    expect(await both(request(signWith(rsa, { sub: 'rs', exp: NOW + 60 })))).toMatchObject({ via: 'jwks', subject: 'rs' });
  });
});

describe('Cognito access tokens', () => {
  const cognito = () =>
    authenticator({ jwt: { issuer: [COGNITO_ISSUER], clientId: ['app-client-1'], tokenUse: 'access' } });

  it('accepts an access token with the configured client_id and token_use, without aud', async () => {
    const result = await cognito()(request(signWith(rsa, cognitoAccess)));
    expect(result).toMatchObject({ via: 'jwks', subject: 'c0ffee-1234', securityContext: { username: 'alice' } });
  });

  it('rejects another app client, a missing client_id and an ID token', async () => {
    const { client_id: _c, ...noClient } = cognitoAccess;
    const idToken = { ...noClient, token_use: 'id', aud: 'app-client-1' };
    for (const claims of [{ ...cognitoAccess, client_id: 'other-app' }, noClient, idToken]) {
      expect((await failure(cognito()(request(signWith(rsa, claims))))).code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it('checks an ID token client through aud when token_use id is configured', async () => {
    const auth = authenticator({ jwt: { clientId: ['app-client-1'], tokenUse: 'id' } });
    const { client_id: _c, ...rest } = cognitoAccess;
    expect((await auth(request(signWith(rsa, { ...rest, token_use: 'id', aud: 'app-client-1' })))).via).toBe('jwks');
    const error = await failure(auth(request(signWith(rsa, { ...rest, token_use: 'id', aud: 'other' }))));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });
});

describe('JWKS outage', () => {
  it('answers 503-coded ERR_AUTH_JWKS_UNAVAILABLE when the endpoint fails, not Invalid token', async () => {
    server.failWith(500);
    const error = await failure(authenticator()(request(signWith(rsa, { exp: NOW + 60 }))));
    expect(error.code).toBe('ERR_AUTH_JWKS_UNAVAILABLE');
    expect(error.message).toBe('The token signing keys could not be fetched from the JWKS endpoint; try again later');
  });

  it('answers ERR_AUTH_JWKS_UNAVAILABLE when nothing listens at the JWKS URL', async () => {
    const gone = await startJwksServer([rsa]);
    const url = gone.url;
    await gone.close();
    const auth = createAuthenticator(testConfig({ apiSecrets: [], jwt: { jwkUrl: url } }), deps);
    const error = await failure(auth(request(signWith(rsa, { exp: NOW + 60 }))));
    expect(error.code).toBe('ERR_AUTH_JWKS_UNAVAILABLE');
  });

  it('recovers once the endpoint is back', async () => {
    const auth = authenticator();
    server.failWith(503);
    expect((await failure(auth(request(signWith(rsa, { exp: NOW + 60 }))))).code).toBe('ERR_AUTH_JWKS_UNAVAILABLE');
    server.failWith(undefined);
    expect((await auth(request(signWith(rsa, { exp: NOW + 60 })))).via).toBe('jwks');
  });

  it('uses an injected fetcher instead of the network', async () => {
    const urls: string[] = [];
    const auth = createAuthenticator(testConfig({ apiSecrets: [], jwt: { jwkUrl: 'https://idp.invalid/jwks.json' } }), {
      ...deps,
      jwks: {
        fetcher: async (uri) => {
          urls.push(uri);
          return { keys: [{ ...(rsa.publicKey.export({ format: 'jwk' }) as object), kid: rsa.kid, alg: 'RS256', use: 'sig' }] };
        },
      },
    });
    expect((await auth(request(signWith(rsa, { exp: NOW + 60 })))).via).toBe('jwks');
    expect(urls).toEqual(['https://idp.invalid/jwks.json']);
  });
});
