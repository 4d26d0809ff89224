import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorStore } from '../../src/operator/create-operator-store.js';
import { createSessionManager } from '../../src/operator/create-session-manager.js';
import { migrateOperatorSchema } from '../../src/operator/migrate-operator-schema.js';
import { testDatabaseUrl } from '../support/test-app.js';
import { uniqueSchema } from './operator-fixtures.js';

const T0 = Date.parse('2026-05-01T00:00:00Z');

describe('admin sessions', () => {
  let knex: Knex;
  const schema = uniqueSchema('sessions_unit');
  let clock = T0;

  beforeAll(async () => {
    knex = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 2 } });
    await migrateOperatorSchema(knex, { schema });
  });
  afterAll(async () => {
    await knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await knex.destroy();
  });

  const manager = () => createSessionManager({ store: createOperatorStore(knex, schema), sessionDays: 7, now: () => clock });

  it('lasts exactly the configured number of days', async () => {
    clock = T0;
    const session = await manager().issue();
    expect(session.expiresAt).toBe(T0 / 1000 + 7 * 86_400);
    clock = T0 + 7 * 86_400_000 - 1000;
    expect(await manager().verify(session.token)).toMatchObject({ subject: 'admin', expiresAt: session.expiresAt });
    clock = T0 + 7 * 86_400_000;
    expect(await manager().verify(session.token)).toBeUndefined();
  });

  it('keeps two sessions issued in the same second apart, so revoking one leaves the other', async () => {
    clock = T0;
    const a = await manager().issue();
    const b = await manager().issue();
    expect(a.token).not.toBe(b.token);
    await manager().revoke(a);
    expect(await manager().verify(a.token)).toBeUndefined();
    expect(await manager().verify(b.token)).toBeDefined();
  });

  it('refuses a token with alg none even when its claims are right', async () => {
    clock = T0;
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'admin', iat: T0 / 1000, exp: T0 / 1000 + 60 })}.`;
    expect(await manager().verify(unsigned)).toBeUndefined();
  });

  it('ends every session when the password change rotates the secret', async () => {
    clock = T0;
    const store = createOperatorStore(knex, schema);
    await store.createAdmin('$argon2id$placeholder-not-verified-here');
    const session = await manager().issue();
    const before = await store.sessionSecret();
    await store.changeAdminPassword('$argon2id$another-placeholder');
    expect(await store.sessionSecret()).not.toBe(before);
    expect(await manager().verify(session.token)).toBeUndefined();
  });
});
