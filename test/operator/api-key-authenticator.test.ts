import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { EngineError } from '../../src/errors/engine-error.js';
import { createApiKeyAuthenticator } from '../../src/operator/create-api-key-authenticator.js';
import { createApiKeyStore, hashApiKey } from '../../src/operator/create-api-key-store.js';
import { migrateOperatorSchema } from '../../src/operator/migrate-operator-schema.js';
import { requireScope } from '../../src/operator/require-scope.js';
import type { AuthRequest } from '../../src/server/app-deps.js';
import { testDatabaseUrl } from '../support/test-app.js';
import { operatorTestConfig, uniqueSchema } from './operator-fixtures.js';

const req: AuthRequest = { headers: {}, ip: '127.0.0.1', raw: undefined };
const NOW = Date.parse('2026-03-01T12:00:00Z');

async function rejectionOf(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('the key was accepted');
}

describe('the API key authenticator', () => {
  let knex: Knex;
  let config: Config;
  const schema = uniqueSchema('keys_unit');

  beforeAll(async () => {
    knex = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 4 } });
    await migrateOperatorSchema(knex, { schema });
    config = operatorTestConfig({ authMode: 'local', metaSchema: schema });
  });

  afterAll(async () => {
    await knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await knex.destroy();
  });

  const store = () => createApiKeyStore(knex, schema);
  let clock = NOW;
  const authenticate = () => createApiKeyAuthenticator({ config, knex, now: () => clock });

  it('turns a key into its bound security context, its scopes and its id as subject', async () => {
    const { record, key } = await store().create(
      { name: 'tenant 3', scopes: ['query'], securityContext: { tenant_id: 3 }, expiresAt: null },
      new Date(NOW),
    );
    const auth = await authenticate()(key, req);
    expect(auth).toEqual({
      via: 'apiKey',
      rawContext: { tenant_id: 3 },
      securityContext: { tenant_id: 3 },
      scopes: ['query'],
      subject: record.id,
      allTenants: false,
    });
    expect(Object.isFrozen(auth.securityContext)).toBe(true);
  });

  it('stores only the SHA-256 of the key, and tsk_ with 8 of its hex digits', async () => {
    const { record, key } = await store().create(
      { name: 'stored', scopes: ['meta'], securityContext: {}, expiresAt: null },
      new Date(NOW),
    );
    const row = await knex.withSchema(schema).table('api_keys').where({ id: record.id }).first();
    expect(key).toMatch(/^tsk_[0-9a-f]{32}$/);
    expect(record.id).toMatch(/^key_[0-9a-z]{10}$/);
    expect(row.key_hash).toBe(hashApiKey(key));
    expect(row.key_prefix).toBe(key.slice(0, 12));
    expect(JSON.stringify(row)).not.toContain(key);
  });

  it('records when a key was last used', async () => {
    const { record, key } = await store().create(
      { name: 'used', scopes: ['query'], securityContext: {}, expiresAt: null },
      new Date(NOW),
    );
    await authenticate()(key, req);
    const row = await knex.withSchema(schema).table('api_keys').where({ id: record.id }).first();
    expect(row.last_used_at?.getTime()).toBe(NOW);
  });

  it('gives a revoked key, an expired key, an unknown key and a malformed key the same 401', async () => {
    const revoked = await store().create({ name: 'r', scopes: ['query'], securityContext: {}, expiresAt: null }, new Date(NOW));
    await store().revoke(revoked.record.id, new Date(NOW));
    const expiring = await store().create(
      { name: 'e', scopes: ['query'], securityContext: {}, expiresAt: new Date(NOW + 60_000) },
      new Date(NOW),
    );
    await expect(authenticate()(expiring.key, req)).resolves.toMatchObject({ via: 'apiKey' });
    clock = NOW + 60_000;
    const errors = await Promise.all(
      [revoked.key, expiring.key, `tsk_${'0'.repeat(32)}`, 'tsk_short', `tsk_${'é'.repeat(32)}`, `tsk_${'a'.repeat(5000)}`].map(
        (key) => rejectionOf(authenticate()(key, req)),
      ),
    );
    clock = NOW;
    for (const error of errors) {
      expect({ code: error.code, message: error.message }).toEqual({
        code: 'ERR_AUTH_INVALID_KEY',
        message: 'Invalid API key or insufficient permissions.',
      });
    }
  });

  it('accepts no key at all when TESSERA_AUTH=none', async () => {
    const { key } = await store().create({ name: 'n', scopes: ['query'], securityContext: {}, expiresAt: null }, new Date(NOW));
    const none = createApiKeyAuthenticator({ config: operatorTestConfig({ authMode: 'none', metaSchema: schema }), knex });
    expect((await rejectionOf(none(key, req))).code).toBe('ERR_AUTH_INVALID_KEY');
  });

  it('answers a key without the needed scope exactly as an unknown key', async () => {
    const { key } = await store().create({ name: 'meta only', scopes: ['meta'], securityContext: {}, expiresAt: null }, new Date(NOW));
    const auth = await authenticate()(key, req);
    expect(() => requireScope(auth, 'meta')).not.toThrow();
    let error: unknown;
    try {
      requireScope(auth, 'query');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect({ code: (error as EngineError).code, message: (error as EngineError).message }).toEqual({
      code: 'ERR_AUTH_INVALID_KEY',
      message: 'Invalid API key or insufficient permissions.',
    });
  });
});
