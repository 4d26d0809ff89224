import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiKeyAuthenticator } from '../../src/auth/api-key-authenticator.js';
import type { AuthResult } from '../../src/auth/auth-result.js';
import { createAuthenticator } from '../../src/auth/create-authenticator.js';
import { AuthError, ConfigError, EngineError } from '../../src/errors/engine-error.js';
import type { AuthRequest } from '../../src/server/app-deps.js';
import { OTHER_SECRET, SECRET, testConfig, type ConfigOverrides } from './support/test-config.js';
import { failure } from '../support/engine-failure.js';

const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const clock = () => NOW_MS;

function request(headers: Record<string, string | string[]> = {}, raw?: unknown): AuthRequest {
  return { headers, ip: '127.0.0.1', raw };
}

function sign(payload: string | object, secret = SECRET, options: jwt.SignOptions = {}): string {
  return jwt.sign(payload, secret, { algorithm: 'HS256', noTimestamp: true, ...options });
}

/** A compact JWS built by hand, for headers and payloads jsonwebtoken refuses to produce. */
function handMade(header: object, payload: string, secret: string | undefined = SECRET): string {
  const enc = (s: string) => Buffer.from(s).toString('base64url');
  const input = `${enc(JSON.stringify(header))}.${enc(payload)}`;
  const signature = secret === undefined ? '' : createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${signature}`;
}

function authenticator(overrides: ConfigOverrides = {}, apiKeys?: ApiKeyAuthenticator) {
  return createAuthenticator(testConfig(overrides), { clock, apiKeys });
}

const valid = { sub: 'user-42', tenant_id: 3, exp: NOW + 3600 };

describe('token extraction', () => {
  const auth = authenticator();

  it('accepts a raw token in Authorization, as the Cube client sends it', async () => {
    const result = await auth(request({ authorization: sign(valid) }));
    expect(result.securityContext).toEqual(valid);
    expect(result.via).toBe('jwt');
  });

  it('accepts Bearer and any other first word, as Cube does', async () => {
    for (const scheme of ['Bearer', 'JWT', 'foo']) {
      const result = await auth(request({ authorization: `${scheme} ${sign(valid)}` }));
      expect(result.securityContext.tenant_id).toBe(3);
    }
  });

  it('refuses x-cube-authorization and Authorization carrying different tokens', async () => {
    const error = await failure(
      auth(request({ 'x-cube-authorization': sign({ ...valid, tenant_id: 9 }), authorization: sign(valid) })),
    );
    expect(error.code).toBe('ERR_AUTH_AMBIGUOUS_CREDENTIALS');
  });

  it('accepts x-cube-authorization and Authorization carrying the same token', async () => {
    const token = sign(valid);
    const result = await auth(request({ 'x-cube-authorization': token, authorization: `Bearer ${token}` }));
    expect(result.securityContext.tenant_id).toBe(valid.tenant_id);
  });

  it("answers Authorization header isn't set when there is no token", async () => {
    const error = await failure(auth(request()));
    expect([error.code, error.message]).toEqual(['ERR_AUTH_MISSING', "Authorization header isn't set"]);
  });

  it('treats "Bearer" followed by two spaces as a missing token', async () => {
    const error = await failure(auth(request({ authorization: `Bearer  ${sign(valid)}` })));
    expect(error.code).toBe('ERR_AUTH_MISSING');
  });

  it('rejects an authorization header sent twice, even with the same token', async () => {
    for (const header of ['x-cube-authorization', 'authorization']) {
      const error = await failure(auth(request({ [header]: [sign(valid), sign(valid)] })));
      expect(error.code).toBe('ERR_AUTH_AMBIGUOUS_CREDENTIALS');
    }
  });
});

describe('HS256 verification', () => {
  const auth = authenticator({ apiSecrets: [SECRET, OTHER_SECRET] });

  it('takes the verified payload as the security context and sub as the subject', async () => {
    const result = await auth(request({ authorization: sign(valid) }));
    expect(result).toEqual({
      via: 'jwt',
      rawContext: valid,
      securityContext: valid,
      scopes: ['query', 'meta'],
      subject: 'user-42',
    });
    expect(Object.isFrozen(result.securityContext)).toBe(true);
  });

  it('merges the legacy u claim into the context and uses u.id as the subject', async () => {
    const payload = { u: { id: 42 }, tenant_id: 1, exp: NOW + 60 };
    const result = await auth(request({ authorization: sign(payload) }));
    expect(result.securityContext).toEqual({ id: 42, tenant_id: 1, exp: NOW + 60 });
    expect(result.rawContext).toEqual(payload);
    expect(result.subject).toBe('42');
  });

  it('merges u under top-level claims of the same name, never over them', async () => {
    const result = await auth(request({ authorization: sign({ id: 1, u: { id: 2, city: 'Oslo' } }) }));
    expect(result.securityContext).toEqual({ id: 1, city: 'Oslo' });
  });

  it('rejects a u claim that is not an object, instead of dropping the user filter', async () => {
    for (const u of [42, 'x', null, [1]]) {
      const error = await failure(auth(request({ authorization: sign({ u }) })));
      expect(error.code).toBe('ERR_AUTH_CONTEXT_NOT_OBJECT');
      expect(error.message).toMatch(/^The legacy u claim must be a JSON object, got /);
    }
  });

  it('verifies with any configured secret, for zero-downtime rotation', async () => {
    const result = await auth(request({ authorization: sign(valid, OTHER_SECRET) }));
    expect(result.subject).toBe('user-42');
  });

  it('rejects a token signed with another secret', async () => {
    const error = await failure(auth(request({ authorization: sign(valid, 'not-the-secret-0123456789-abcdefghij') })));
    expect([error.code, error.message]).toEqual(['ERR_AUTH_INVALID_TOKEN', 'Invalid token']);
  });

  it('rejects an expired token with ERR_AUTH_TOKEN_EXPIRED', async () => {
    const error = await failure(auth(request({ authorization: sign({ exp: NOW - 1 }) })));
    expect([error.code, error.message]).toEqual(['ERR_AUTH_TOKEN_EXPIRED', 'Token expired']);
  });

  it('rejects an expired token signed with the second secret as expired, not as a bad signature', async () => {
    const error = await failure(auth(request({ authorization: sign({ exp: NOW - 1 }, OTHER_SECRET) })));
    expect(error.code).toBe('ERR_AUTH_TOKEN_EXPIRED');
  });

  it('accepts a token expired within the configured clock tolerance', async () => {
    const tolerant = authenticator({ jwt: { clockToleranceSec: 30 } });
    const result = await tolerant(request({ authorization: sign({ exp: NOW - 10 }) }));
    expect(result.securityContext).toEqual({ exp: NOW - 10 });
    const error = await failure(tolerant(request({ authorization: sign({ exp: NOW - 31 }) })));
    expect(error.code).toBe('ERR_AUTH_TOKEN_EXPIRED');
  });

  it('rejects a token that is not valid yet', async () => {
    const error = await failure(auth(request({ authorization: sign({ nbf: NOW + 60 }) })));
    expect([error.code, error.message]).toEqual(['ERR_AUTH_INVALID_TOKEN', 'Token is not valid yet']);
  });

  it('rejects alg none, whatever its case', async () => {
    for (const alg of ['none', 'None', 'nOnE']) {
      const error = await failure(auth(request({ authorization: handMade({ alg, typ: 'JWT' }, '{"sub":"x"}', undefined) })));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it('rejects HS384 and HS512 tokens made with the right secret', async () => {
    for (const algorithm of ['HS384', 'HS512'] as const) {
      const error = await failure(auth(request({ authorization: sign(valid, SECRET, { algorithm }) })));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const [h, , s] = sign({ tenant_id: 1 }).split('.');
    const forged = `${h}.${Buffer.from('{"tenant_id":2}').toString('base64url')}.${s}`;
    const error = await failure(auth(request({ authorization: forged })));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects a token larger than jwt.maxTokenBytes before parsing it', async () => {
    const small = authenticator({ jwt: { maxTokenBytes: 300 } });
    const token = sign({ pad: 'x'.repeat(400) });
    const error = await failure(small(request({ authorization: token })));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    expect((error.cause as Error).message).toBe('token is larger than 300 bytes');
  });

  it('rejects things that are not JWTs', async () => {
    for (const token of ['hello', 'a.b', 'a.b.c.d.e', '{"alg":"HS256"}.e30.x', `${sign(valid)}=`, 'e30.e30.']) {
      const error = await failure(auth(request({ authorization: token })));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it('rejects a correctly signed token whose header carries jku, x5u, jwk, x5c or crit', async () => {
    for (const extra of [
      { jku: 'http://127.0.0.1:1/keys' },
      { x5u: 'http://127.0.0.1:1/cert' },
      { jwk: { kty: 'oct', k: 'AAAA' } },
      { x5c: ['AAAA'] },
      { crit: ['exp'] },
    ]) {
      const token = handMade({ alg: 'HS256', typ: 'JWT', ...extra }, JSON.stringify(valid));
      const error = await failure(auth(request({ authorization: token })));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it.each([
    ['a string', '"hello"', 'a string'],
    ['a bare word', 'hello', 'a string'],
    ['an array', '[1,2]', 'an array'],
    ['a number', '42', 'a number'],
    ['null', 'null', 'null'],
  ])('rejects a correctly signed payload that is %s with a clear 403, never a crash', async (_, payload, got) => {
    const error = await failure(auth(request({ authorization: handMade({ alg: 'HS256', typ: 'JWT' }, payload) })));
    expect(error.code).toBe('ERR_AUTH_CONTEXT_NOT_OBJECT');
    expect(error.message).toBe(`The token payload must be a JSON object, got ${got}`);
  });

  it('rejects a string payload signed by jsonwebtoken itself (no typ header) as not an object', async () => {
    const error = await failure(auth(request({ authorization: jwt.sign('hello', SECRET, { algorithm: 'HS256' }) })));
    expect([error.code, error.message]).toEqual([
      'ERR_AUTH_CONTEXT_NOT_OBJECT',
      'The token payload must be a JSON object, got a string',
    ]);
  });

  it('calls a non-object payload signed with an unknown secret an invalid token, not a payload problem', async () => {
    const token = handMade({ alg: 'HS256', typ: 'JWT' }, 'null', 'unknown-secret-0123456789-abcdefghijkl');
    const error = await failure(auth(request({ authorization: token })));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects a token without the configured issuer, and one with another issuer', async () => {
    const strict = authenticator({ jwt: { issuer: ['https://issuer.test/'] } });
    expect((await strict(request({ authorization: sign({ iss: 'https://issuer.test/' }) }))).via).toBe('jwt');
    for (const payload of [{}, { iss: 'https://evil.test/' }]) {
      const error = await failure(strict(request({ authorization: sign(payload) })));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it('rejects a token without the configured audience, and one with a foreign audience', async () => {
    const strict = authenticator({ jwt: { audience: ['tessera'] } });
    expect((await strict(request({ authorization: sign({ aud: ['other', 'tessera'] }) }))).via).toBe('jwt');
    for (const payload of [{}, { aud: 'other' }]) {
      const error = await failure(strict(request({ authorization: sign(payload) })));
      expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    }
  });

  it('does not accept HS256 tokens when jwt.algorithms leaves HS256 out', async () => {
    const rsOnly = authenticator({ jwt: { algorithms: ['RS256'], jwkUrl: 'http://127.0.0.1:9/jwks.json' } });
    const error = await failure(rsOnly(request({ authorization: sign(valid) })));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });
});

describe('claims namespace', () => {
  const ns = 'https://tessera.test/claims';
  const auth = authenticator({ jwt: { claimsNamespace: ns } });

  it('takes the security context from the namespace claim, keeping the payload raw', async () => {
    const payload = { sub: 'a', [ns]: { tenant_id: 5 } };
    const result = await auth(request({ authorization: sign(payload) }));
    expect(result.securityContext).toEqual({ tenant_id: 5 });
    expect(result.rawContext).toEqual(payload);
  });

  it('rejects a token missing the namespace instead of using an empty context', async () => {
    const error = await failure(auth(request({ authorization: sign({ tenant_id: 5 }) })));
    expect([error.code, error.message]).toEqual([
      'ERR_AUTH_CONTEXT_INVALID',
      `The security context has no claims namespace ${ns}`,
    ]);
  });

  it('rejects a namespace claim that is not an object', async () => {
    const error = await failure(auth(request({ authorization: sign({ [ns]: 'admin' }) })));
    expect([error.code, error.message]).toEqual([
      'ERR_AUTH_CONTEXT_NOT_OBJECT',
      `The claims namespace ${ns} must be a JSON object, got a string`,
    ]);
  });
});

describe('securityContextSchema', () => {
  const schema = z.object({ user_id: z.number(), tenant_id: z.string(), org: z.object({ id: z.number() }).optional() });
  const auth = authenticator({ hooks: { securityContextSchema: schema } });

  it('lets a matching context through unchanged, extra claims included', async () => {
    const payload = { user_id: 1, tenant_id: 't1', exp: NOW + 60 };
    expect((await auth(request({ authorization: sign(payload) }))).securityContext).toEqual(payload);
  });

  it('rejects a context whose claim has the wrong type, naming the claim', async () => {
    const error = await failure(auth(request({ authorization: sign({ user_id: 1, tenant_id: 7 }) })));
    expect(error.code).toBe('ERR_AUTH_CONTEXT_INVALID');
    expect(error.message).toMatch(/^Security context claim tenant_id is invalid: /);
  });

  it('names a nested claim by its path', async () => {
    const error = await failure(auth(request({ authorization: sign({ user_id: 1, tenant_id: 't', org: { id: 'x' } }) })));
    expect(error.message).toMatch(/^Security context claim org\.id is invalid: /);
  });

  it('rejects a context missing a required claim, naming it', async () => {
    const error = await failure(auth(request({ authorization: sign({ tenant_id: 't' }) })));
    expect(error.message).toMatch(/^Security context claim user_id is invalid: /);
  });

  it('checks the context after the u claim is merged', async () => {
    const result = await auth(request({ authorization: sign({ u: { user_id: 3, tenant_id: 't' } }) }));
    expect(result.securityContext).toEqual({ user_id: 3, tenant_id: 't' });
  });
});

describe('dev mode', () => {
  it('lets a request without a token through with an empty context', async () => {
    const result = await authenticator({ devMode: true })(request());
    expect(result).toEqual({ via: 'dev', rawContext: {}, securityContext: {}, scopes: ['query', 'meta'], subject: undefined });
  });

  it('still verifies a token that is present, and rejects an invalid one', async () => {
    const auth = authenticator({ devMode: true });
    expect((await auth(request({ authorization: sign(valid) }))).securityContext).toEqual(valid);
    const error = await failure(auth(request({ authorization: sign(valid, OTHER_SECRET) })));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('rejects any token when no secret is configured, since nothing can verify it', async () => {
    const error = await failure(authenticator({ devMode: true, apiSecrets: [] })(request({ authorization: sign(valid) })));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('applies securityContextSchema to the empty dev context too', async () => {
    const auth = authenticator({ devMode: true, hooks: { securityContextSchema: z.object({ user_id: z.number() }) } });
    const error = await failure(auth(request()));
    expect(error.message).toMatch(/^Security context claim user_id is invalid: /);
  });
});

describe('checkAuth', () => {
  const withCheckAuth = (checkAuth: (req: unknown, auth: string | undefined) => unknown, hooks = {}) =>
    authenticator({ hooks: { checkAuth, ...hooks } });

  it('replaces the JWT check: the hook gets the raw request and token and sets req.securityContext', async () => {
    const seen: unknown[] = [];
    const raw = { headers: { authorization: 'opaque-token' }, custom: 'x' };
    const auth = withCheckAuth((req, token) => {
      seen.push((req as { custom: string }).custom, token);
      (req as Record<string, unknown>).securityContext = { tenant_id: 2, sub: 's' };
    });
    const result = await auth(request({ authorization: 'opaque-token' }, raw));
    expect(seen).toEqual(['x', 'opaque-token']);
    expect(result).toMatchObject({ via: 'checkAuth', securityContext: { tenant_id: 2 }, subject: 's' });
  });

  it('accepts the legacy req.authInfo from an async hook', async () => {
    const auth = withCheckAuth(async (req) => {
      await Promise.resolve();
      (req as Record<string, unknown>).authInfo = { u: { id: 7 } };
    });
    expect((await auth(request({}, {}))).securityContext).toEqual({ id: 7 });
  });

  it('accepts a returned {security_context} or {securityContext}', async () => {
    for (const key of ['security_context', 'securityContext']) {
      const auth = withCheckAuth(() => ({ [key]: { tenant_id: 4 } }));
      expect((await auth(request())).securityContext).toEqual({ tenant_id: 4 });
    }
  });

  it('is called without a token and may decide on its own', async () => {
    const tokens: unknown[] = [];
    const auth = withCheckAuth((req, token) => {
      tokens.push(token);
      (req as Record<string, unknown>).securityContext = {};
    });
    await auth(request());
    expect(tokens).toEqual([undefined]);
  });

  it('answers with the status and message of a thrown AuthError', async () => {
    const auth = withCheckAuth(() => {
      throw new AuthError(401, 'Session expired, log in again');
    });
    const error = await failure(auth(request()));
    expect([error.status, error.message, error.code]).toEqual([401, 'Session expired, log in again', 'ERR_AUTH_DENIED']);
  });

  it('honours an AuthError from another copy of the package, matched by name and status', async () => {
    class AuthErrorCopy extends Error {
      constructor(readonly status: number, message: string) {
        super(message);
        this.name = 'AuthError';
      }
    }
    const auth = withCheckAuth(() => {
      throw new AuthErrorCopy(418, 'No tea');
    });
    const error = await failure(auth(request()));
    expect([error.status, error.message]).toEqual([418, 'No tea']);
  });

  it('turns any other throw into a 403 with a generic message and keeps the cause for the log', async () => {
    const cause = new Error('db password is hunter2');
    const auth = withCheckAuth(async () => {
      throw cause;
    });
    const error = await failure(auth(request()));
    expect([error.code, error.status, error.message]).toEqual(['ERR_AUTH_DENIED', undefined, 'Authentication failed']);
    expect(error.cause).toBe(cause);
  });

  it.each([
    ['nothing', undefined, 'nothing'],
    ['a string', 'admin', 'a string'],
    ['an array', [1], 'an array'],
    ['null', null, 'null'],
    ['a number', 5, 'a number'],
  ])('rejects a context that is %s with a 403 saying so', async (_, value, got) => {
    const auth = withCheckAuth((req) => {
      (req as Record<string, unknown>).securityContext = value;
    });
    const error = await failure(auth(request({}, {})));
    expect(error.code).toBe('ERR_AUTH_CONTEXT_NOT_OBJECT');
    expect(error.message).toBe(`The security context set by checkAuth must be a JSON object, got ${got}`);
  });

  it('ignores a securityContext left on the request before the hook ran', async () => {
    const raw = { securityContext: { tenant_id: 1 } };
    const auth = withCheckAuth(() => undefined);
    const error = await failure(auth(request({}, raw)));
    expect(error.code).toBe('ERR_AUTH_CONTEXT_NOT_OBJECT');
  });

  it('checks the context against securityContextSchema', async () => {
    const auth = withCheckAuth(
      (req) => {
        (req as Record<string, unknown>).securityContext = { tenant_id: 'x' };
      },
      { securityContextSchema: z.object({ tenant_id: z.number() }) },
    );
    const error = await failure(auth(request({}, {})));
    expect(error.message).toMatch(/^Security context claim tenant_id is invalid: /);
  });

  it('freezes a copy, so the hook cannot change the context afterwards', async () => {
    const context = { tenant_id: 1 };
    const auth = withCheckAuth((req) => {
      (req as Record<string, unknown>).securityContext = context;
    });
    const result = await auth(request({}, {}));
    context.tenant_id = 2;
    expect(result.securityContext.tenant_id).toBe(1);
    expect(Object.isFrozen(result.securityContext)).toBe(true);
  });
});

describe('API keys', () => {
  const keyResult: AuthResult = {
    via: 'apiKey',
    rawContext: { tenant_id: 3 },
    securityContext: { tenant_id: 3 },
    scopes: ['query'],
    subject: 'key_abc',
  };
  const keys: string[] = [];
  const apiKeys: ApiKeyAuthenticator = async (token) => {
    keys.push(token);
    if (token !== 'tsk_good') throw new EngineError('ERR_AUTH_INVALID_KEY', 'Invalid API key or insufficient permissions.');
    return keyResult;
  };

  it('hands X-API-Key and a tsk_ bearer token to the API key authenticator', async () => {
    keys.length = 0;
    const auth = authenticator({}, apiKeys);
    expect(await auth(request({ 'x-api-key': 'tsk_good' }))).toEqual(keyResult);
    expect(await auth(request({ authorization: 'Bearer tsk_good' }))).toEqual(keyResult);
    expect(keys).toEqual(['tsk_good', 'tsk_good']);
  });

  it('passes the key authenticator error through', async () => {
    const error = await failure(authenticator({}, apiKeys)(request({ 'x-api-key': 'tsk_bad' })));
    expect(error.code).toBe('ERR_AUTH_INVALID_KEY');
  });

  it('still verifies JWTs when API keys are enabled', async () => {
    const result = await authenticator({}, apiKeys)(request({ authorization: sign(valid) }));
    expect(result.via).toBe('jwt');
  });

  it('treats a tsk_ token as an invalid JWT when API keys are not enabled', async () => {
    const error = await failure(authenticator()(request({ authorization: 'Bearer tsk_good' })));
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('checks the key context against securityContextSchema', async () => {
    const auth = authenticator({ hooks: { securityContextSchema: z.object({ user_id: z.number() }) } }, apiKeys);
    const error = await failure(auth(request({ 'x-api-key': 'tsk_good' })));
    expect(error.code).toBe('ERR_AUTH_CONTEXT_INVALID');
  });
});

describe('start-up validation', () => {
  const option = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).option;
    }
    throw new Error('expected a ConfigError');
  };

  it('refuses HS384, HS512 and unknown algorithms in jwt.algorithms', () => {
    for (const alg of ['HS384', 'HS512', 'none', 'EdDSA']) {
      expect(option(() => authenticator({ jwt: { algorithms: ['HS256', alg] } }))).toBe('jwt.algorithms');
    }
  });

  it('refuses a JWKS URL with no asymmetric algorithm to verify its keys with', () => {
    expect(option(() => authenticator({ jwt: { jwkUrl: 'https://idp.test/jwks.json', algorithms: ['HS256'] } }))).toBe(
      'jwt.algorithms',
    );
  });

  it('refuses a JWKS URL that is not http(s)', () => {
    expect(option(() => authenticator({ jwt: { jwkUrl: 'file:///etc/keys.json' } }))).toBe('jwt.jwkUrl');
  });

  it('refuses to run outside dev mode with nothing that could verify a token', () => {
    expect(option(() => authenticator({ apiSecrets: [] }))).toBe('apiSecrets');
  });

  it('refuses an empty secret', () => {
    expect(option(() => authenticator({ apiSecrets: [SECRET, ''] }))).toBe('apiSecrets');
  });
});

describe('the verified-token cache', () => {
  it('never answers from the cache once the token has expired', async () => {
    let now = NOW_MS;
    const auth = createAuthenticator(testConfig(), { clock: () => now });
    const token = sign({ sub: 'user-1', exp: NOW + 10 });
    expect((await auth(request({ authorization: token }))).subject).toBe('user-1');
    now += 5_000;
    expect((await auth(request({ authorization: token }))).subject).toBe('user-1');
    now += 6_000;
    expect((await failure(auth(request({ authorization: token })))).code).toBe('ERR_AUTH_TOKEN_EXPIRED');
  });

  it('still rejects a token whose signature was changed after the same payload was accepted', async () => {
    const auth = authenticator();
    const token = sign(valid);
    await auth(request({ authorization: token }));
    const tampered = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
    expect((await failure(auth(request({ authorization: tampered })))).code).toBe('ERR_AUTH_INVALID_TOKEN');
  });
});
