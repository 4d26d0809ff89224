/**
 * What a statement runs on behalf of: the request's abort signal (client gone,
 * deadline passed), its fairness key and its stage timings. The request guard
 * builds one per request (`res.locals.statementScope`) and the router hands the
 * pipeline a database view bound to it (`bindStatementScope`). An explicit
 * object, not AsyncLocalStorage: on Node 20 that puts a hook on every promise
 * in the process, which the profile showed on the hot path.
 */
import type { Database } from './database.js';

export interface StatementTiming {
  add(stage: 'db', ms: number): void;
}

export interface StatementScope {
  /** Aborting cancels the statement in PostgreSQL (or its wait for a slot). */
  readonly signal?: AbortSignal | undefined;
  /** Fairness key: statements with the same key share one per-key concurrency limit. */
  readonly tenantKey?: string | undefined;
  /** Where the statement's database time is added (the request's Server-Timing). */
  readonly timing?: StatementTiming | undefined;
}

/** `db` for one request: every statement runs in `scope` unless the caller passes its own. */
export function bindStatementScope(db: Database, scope: StatementScope | undefined): Database {
  if (scope === undefined) return db;
  return {
    knex: db.knex,
    ping: () => db.ping(),
    close: () => db.close(),
    ...(db.poolStats ? { poolStats: () => db.poolStats!() } : {}),
    query: (compiled, opts) => db.query(compiled, opts ?? scope),
  };
}
