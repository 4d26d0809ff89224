/**
 * The execute stage's contract. Implemented in `create-database.ts`.
 * Rows come back exactly as PostgreSQL sends them as text for numeric/bigint
 * (strings, as Cube does) and as raw text for date/time types, so `shape/`
 * can format them in the query timezone without the JS Date round-trip.
 */
import type { Knex } from 'knex';
import type { StatementScope } from './statement-scope.js';

export interface CompiledSql {
  readonly sql: string;
  readonly params: readonly unknown[];
  /**
   * Session settings the statement runs with (transaction-local), e.g. the RLS role and
   * `request.jwt.claims`. Part of what decides the answer, so the result cache keys on it.
   */
  readonly settings?: Readonly<{ role?: string | undefined; claims?: string | undefined }> | undefined;
  /** The model data source the statement runs on (`default` when absent). */
  readonly dataSource?: string | undefined;
  /** The cubes the statement reads; their `refresh_key`s decide how long a cached result is fresh. */
  readonly cubes?: readonly string[] | undefined;
}

export interface QueryResult {
  readonly rows: readonly Readonly<Record<string, unknown>>[];
  readonly fields: readonly { readonly name: string; readonly dataTypeID: number }[];
}

export interface Database {
  /**
   * Runs one parameterised statement; maps connection/timeout failures to EngineError.
   * `opts`: the abort signal, fairness key and timing of the request it runs for
   * (see `bindStatementScope`); none for work of the process itself.
   */
  query(compiled: CompiledSql, opts?: StatementScope): Promise<QueryResult>;
  /** Throws EngineError('ERR_DB_UNAVAILABLE') when the database cannot answer within a second. */
  ping(): Promise<void>;
  /** The knex instance for metadata (migrations, keys, sessions). */
  readonly knex: Knex;
  close(): Promise<void>;
  /** Connections of the query pool: open, idle, and queries waiting for one (for metrics). */
  poolStats?(): { total: number; idle: number; waiting: number };
}
