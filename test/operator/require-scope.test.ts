import { describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/auth/auth-result.js';
import { EngineError } from '../../src/errors/engine-error.js';
import { requireScope } from '../../src/operator/require-scope.js';

const caller = (via: AuthResult['via'], scopes: AuthResult['scopes']): AuthResult => ({
  via,
  rawContext: {},
  securityContext: {},
  scopes,
  subject: 'x',
});

function thrown(fn: () => void): { code: string; message: string } | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return { code: e.code, message: e.message };
    throw e;
  }
  return undefined;
}

describe('requireScope', () => {
  it('lets a caller with the scope through', () => {
    expect(thrown(() => requireScope(caller('apiKey', ['query']), 'query'))).toBeUndefined();
    expect(thrown(() => requireScope(caller('jwt', ['query', 'meta']), 'meta'))).toBeUndefined();
  });

  it('answers an API key without the scope exactly as an unknown key', () => {
    expect(thrown(() => requireScope(caller('apiKey', ['meta']), 'query'))).toEqual({
      code: 'ERR_AUTH_INVALID_KEY',
      message: 'Invalid API key or insufficient permissions.',
    });
  });

  it('answers any other credential without the scope with ERR_AUTH_SCOPE', () => {
    expect(thrown(() => requireScope(caller('checkAuth', ['meta']), 'query'))).toEqual({
      code: 'ERR_AUTH_SCOPE',
      message: 'API scope is missing: query',
    });
  });
});
