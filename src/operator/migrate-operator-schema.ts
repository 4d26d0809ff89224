/**
 * The operator metadata schema (admin password, session secret, API keys,
 * revoked sessions, limiter counters), created by knex migrations at start-up.
 */
import type { Knex } from 'knex';
import { ConfigError } from '../errors/engine-error.js';

export const DEFAULT_META_SCHEMA = 'tessera_meta';

/** Table names inside the metadata schema. */
export const META_TABLES = {
  settings: 'settings',
  admin: 'admin',
  apiKeys: 'api_keys',
  revokedSessions: 'revoked_sessions',
  rateLimits: 'rate_limits',
} as const;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Returns the schema name after checking it is a plain lower-case identifier. */
export function metaSchemaName(schema: string | undefined): string {
  const name = schema ?? DEFAULT_META_SCHEMA;
  if (!SCHEMA_NAME.test(name)) {
    throw new ConfigError('TESSERA_META_SCHEMA', 'must be a lower-case identifier of letters, digits and underscores');
  }
  return name;
}

interface NamedMigration {
  readonly name: string;
  up(knex: Knex, schema: string): Promise<void>;
}

// Migrations are code, not files, so they run the same under tsx, the build and the tests.
const MIGRATIONS: readonly NamedMigration[] = [
  {
    name: '001_operator_access',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable(META_TABLES.settings, (t) => {
        t.text('key').primary();
        t.text('value').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.withSchema(schema).createTable(META_TABLES.admin, (t) => {
        t.smallint('id').primary();
        t.text('password_hash').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.check('id = 1', {}, 'admin_single_row');
      });
      await knex.schema.withSchema(schema).createTable(META_TABLES.apiKeys, (t) => {
        t.string('id', 14).primary();
        t.string('name', 100).notNullable();
        t.string('key_hash', 64).notNullable().unique();
        t.string('key_prefix', 20).notNullable();
        t.specificType('scopes', 'text[]').notNullable();
        t.jsonb('security_context').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('last_used_at', { useTz: true }).nullable();
        t.timestamp('revoked_at', { useTz: true }).nullable();
        t.timestamp('expires_at', { useTz: true }).nullable();
        // Creation order even when two keys share a timestamp.
        t.specificType('seq', 'bigint GENERATED ALWAYS AS IDENTITY').notNullable();
        t.index(['created_at', 'seq'], 'api_keys_created_at_idx');
      });
      await knex.schema.withSchema(schema).createTable(META_TABLES.revokedSessions, (t) => {
        t.string('token_hash', 64).primary();
        t.timestamp('expires_at', { useTz: true }).notNullable();
      });
      // The exact layout rate-limiter-flexible's RateLimiterPostgres expects.
      await knex.schema.withSchema(schema).createTable(META_TABLES.rateLimits, (t) => {
        t.string('key', 255).primary();
        t.integer('points').notNullable().defaultTo(0);
        t.bigInteger('expire').nullable();
      });
    },
  },
  {
    // Issue 12: a key bound to no tenant is an explicit, recorded choice.
    name: '002_api_key_all_tenants',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).alterTable(META_TABLES.apiKeys, (t) => {
        t.boolean('all_tenants').notNullable().defaultTo(false);
      });
    },
  },
];

function migrationSource(schema: string): Knex.MigrationSource<NamedMigration> {
  return {
    getMigrations: async () => [...MIGRATIONS],
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({
      up: (knex: Knex) => m.up(knex, schema),
      down: async () => {
        throw new Error('Operator migrations are forward-only.');
      },
    }),
  };
}

/**
 * Creates or upgrades the operator metadata schema. Safe to call from several
 * processes at once: a PostgreSQL advisory lock serialises them.
 */
export async function migrateOperatorSchema(knex: Knex, options: { schema?: string | undefined } = {}): Promise<void> {
  const schema = metaSchemaName(options.schema);
  // A dedicated connection holds the session-level lock while knex migrates on others.
  const conn = (await knex.client.acquireConnection()) as {
    query(text: string, values?: unknown[]): Promise<unknown>;
  };
  const lockKey = `tessera:migrate:${schema}`;
  try {
    await conn.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
      await knex.migrate.latest({
        migrationSource: migrationSource(schema),
        schemaName: schema,
        tableName: 'knex_migrations',
      });
    } finally {
      await conn.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}
