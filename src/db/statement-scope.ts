/**
 * What a statement runs on behalf of: the request's abort signal (client gone,
 * deadline passed) and its fairness key. The HTTP layer opens a scope per
 * request, so `db.query` finds both without every caller threading them through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface StatementScope {
  /** Aborting cancels the statement in PostgreSQL (or its wait for a slot). */
  readonly signal?: AbortSignal | undefined;
  /** Fairness key: statements with the same key share one per-key concurrency limit. */
  readonly tenantKey?: string | undefined;
}

const storage = new AsyncLocalStorage<StatementScope>();

/** Runs `fn` (and everything it starts) inside `scope`. */
export function runInStatementScope<T>(scope: StatementScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the running request, if any. */
export function currentStatementScope(): StatementScope | undefined {
  return storage.getStore();
}
