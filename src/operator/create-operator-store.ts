/**
 * Reads and writes the admin password hash, the session secret and revoked
 * sessions in the metadata schema. Every call goes to PostgreSQL, so all
 * processes see a password change or a logout at once.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { META_TABLES } from './migrate-operator-schema.js';

const SESSION_SECRET_KEY = 'session_secret';

/** 32 random bytes as 64 hex characters. */
export const newSessionSecret = (): string => randomBytes(32).toString('hex');

export interface OperatorStore {
  adminPasswordHash(): Promise<string | undefined>;
  /** Stores the first admin password; false when one already exists. */
  createAdmin(passwordHash: string): Promise<boolean>;
  /** Replaces the password and the session secret in one transaction, ending every session. */
  changeAdminPassword(passwordHash: string): Promise<void>;
  /** The HS256 session secret, created on first use. */
  sessionSecret(): Promise<string>;
  /** Remembers a logged-out session until it would have expired; `now` prunes older rows. */
  revokeSession(tokenHash: string, expiresAt: Date, now: Date): Promise<void>;
  isSessionRevoked(tokenHash: string): Promise<boolean>;
}

export function createOperatorStore(knex: Knex, schema: string): OperatorStore {
  const table = (name: string) => knex.withSchema(schema).table(name);

  return {
    async adminPasswordHash() {
      const row = (await table(META_TABLES.admin).where({ id: 1 }).first('password_hash')) as
        | { password_hash: string }
        | undefined;
      return row?.password_hash;
    },

    async createAdmin(passwordHash) {
      // ON CONFLICT makes two racing setups end with exactly one admin.
      const inserted = await table(META_TABLES.admin)
        .insert({ id: 1, password_hash: passwordHash })
        .onConflict('id')
        .ignore()
        .returning('id');
      return inserted.length === 1;
    },

    async changeAdminPassword(passwordHash) {
      await knex.transaction(async (trx) => {
        await trx.withSchema(schema).table(META_TABLES.admin).where({ id: 1 }).update({
          password_hash: passwordHash,
          updated_at: trx.fn.now(),
        });
        await trx.withSchema(schema).table(META_TABLES.settings)
          .insert({ key: SESSION_SECRET_KEY, value: newSessionSecret() })
          .onConflict('key')
          .merge({ value: newSessionSecret(), updated_at: trx.fn.now() });
        // Old sessions die with the old secret, so their revocation rows are no longer needed.
        await trx.withSchema(schema).table(META_TABLES.revokedSessions).delete();
      });
    },

    async sessionSecret() {
      const read = async () =>
        (await table(META_TABLES.settings).where({ key: SESSION_SECRET_KEY }).first('value')) as
          | { value: string }
          | undefined;
      const existing = await read();
      if (existing) return existing.value;
      await table(META_TABLES.settings)
        .insert({ key: SESSION_SECRET_KEY, value: newSessionSecret() })
        .onConflict('key')
        .ignore();
      const created = await read();
      if (!created) throw new Error('The session secret could not be stored.');
      return created.value;
    },

    async revokeSession(tokenHash, expiresAt, now) {
      await table(META_TABLES.revokedSessions)
        .insert({ token_hash: tokenHash, expires_at: expiresAt })
        .onConflict('token_hash')
        .ignore();
      await table(META_TABLES.revokedSessions).where('expires_at', '<', now).delete();
    },

    async isSessionRevoked(tokenHash) {
      const row = await table(META_TABLES.revokedSessions).where({ token_hash: tokenHash }).first('token_hash');
      return row !== undefined;
    },
  };
}
