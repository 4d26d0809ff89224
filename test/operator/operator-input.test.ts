import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';
import { createKeyBody, listKeysQuery, parseOperatorInput } from '../../src/operator/operator-input.js';

function rejection(schema: Parameters<typeof parseOperatorInput>[0], input: unknown): EngineError {
  try {
    parseOperatorInput(schema, input);
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('the input was accepted');
}

describe('the API key body', () => {
  it('accepts a name, scopes, a bound context and an expiry', () => {
    expect(
      parseOperatorInput(createKeyBody, {
        name: 'Reporting job',
        scopes: ['query', 'meta'],
        securityContext: { tenant_id: 3, u: { id: 42 } },
        expiresAt: '2030-01-01T00:00:00Z',
      }),
    ).toEqual({
      name: 'Reporting job',
      scopes: ['query', 'meta'],
      securityContext: { tenant_id: 3, u: { id: 42 } },
      expiresAt: '2030-01-01T00:00:00Z',
    });
  });

  it.each([
    [{ scopes: ['query'] }, 'name must be a string.'],
    [{ name: '', scopes: ['query'] }, 'name must not be empty.'],
    [{ name: 'x'.repeat(101), scopes: ['query'] }, 'name must be at most 100 characters.'],
    [{ name: 'Clé de test', scopes: ['query'] }, 'name must contain printable ASCII characters only.'],
    [{ name: 'tab\there', scopes: ['query'] }, 'name must contain printable ASCII characters only.'],
    [{ name: 'k', scopes: [] }, 'scopes must name at least one scope.'],
    [{ name: 'k', scopes: ['admin'] }, 'scopes may contain only "query", "meta" and "metrics".'],
    [{ name: 'k', scopes: ['query', 'query'] }, 'scopes must not repeat a scope.'],
    [{ name: 'k', scopes: 'query' }, 'scopes must be an array.'],
    [{ name: 'k', scopes: ['query'], securityContext: [1] }, 'securityContext must be a JSON object.'],
    [
      { name: 'k', scopes: ['query'], securityContext: { 'tenänt': 1 } },
      'securityContext property names must be ASCII identifiers of at most 64 characters, nested at most 8 deep.',
    ],
    [
      { name: 'k', scopes: ['query'], securityContext: { blob: 'x'.repeat(5000) } },
      'securityContext must be at most 4096 bytes of JSON.',
    ],
    [{ name: 'k', scopes: ['query'], expiresAt: 'tomorrow' }, 'expiresAt must be an ISO 8601 date-time such as 2030-01-01T00:00:00Z.'],
    [{ name: 'k', scopes: ['query'], admin: true }, 'Unknown field in the request: "admin".'],
    [{ name: 'k', scopes: ['query'], 'ключ': true }, 'Unknown field in the request: (a field with an unusable name).'],
    [[], 'The request body must be a JSON object.'],
    ['tsk_0123', 'The request body must be a JSON object.'],
  ])('rejects %j with a 400 that says why', (input, message) => {
    const error = rejection(createKeyBody, input);
    expect(error.code).toBe('ERR_BAD_REQUEST');
    expect(error.message).toBe(message);
  });
});

describe('the key list query', () => {
  it('defaults to 20 keys from offset 0', () => {
    expect(parseOperatorInput(listKeysQuery, {})).toEqual({ limit: 20, offset: 0 });
  });

  it('reads limit and offset from the query string', () => {
    expect(parseOperatorInput(listKeysQuery, { limit: '100', offset: '40' })).toEqual({ limit: 100, offset: 40 });
  });

  it.each([
    [{ limit: '0' }, 'limit must be a whole number from 1 to 100.'],
    [{ limit: '101' }, 'limit must be a whole number from 1 to 100.'],
    [{ limit: '-1' }, 'limit must be a whole number from 1 to 100.'],
    [{ limit: ['1', '2'] }, 'limit must be given once.'],
    [{ offset: '1.5' }, 'offset must be a whole number from 0 to 100000000.'],
    [{ sort: 'name' }, 'Unknown field in the request: "sort".'],
  ])('rejects %j', (input, message) => {
    expect(rejection(listKeysQuery, input).message).toBe(message);
  });
});
