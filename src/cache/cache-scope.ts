/**
 * Per-request cache instructions and outcomes: the router hands the pipeline a database view
 * bound to a scope (`CachedDatabase.scoped`), which reads `renew` and records what each
 * statement was (hit, miss or coalesced) so the router can say so in a header. An explicit
 * object, not AsyncLocalStorage: on Node 20 that slows every promise in the process.
 */

import type { StatementScope } from '../db/statement-scope.js';

export type CacheOutcome = 'hit' | 'miss' | 'coalesced';

export interface CacheScope {
  /** Serve no stored result older than the renew grace (renewQuery, cache: no-cache / must-revalidate). */
  readonly renew: boolean;
  readonly outcomes: CacheOutcome[];
  /** The request a statement that reaches the database runs for (abort signal, fairness key, timing). */
  readonly statement?: StatementScope | undefined;
}

/** One word for a request's statements: a miss if any ran, else coalesced if any joined one, else hit. */
export function summarizeOutcomes(outcomes: readonly CacheOutcome[]): CacheOutcome | undefined {
  if (outcomes.length === 0) return undefined;
  if (outcomes.includes('miss')) return 'miss';
  return outcomes.includes('coalesced') ? 'coalesced' : 'hit';
}
