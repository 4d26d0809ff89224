/**
 * Per-request cache instructions and outcomes, carried across the pipeline without touching it:
 * the router opens a scope (e.g. `renewQuery`), the cached database reads it and records what
 * each statement was (hit, miss or coalesced) so the router can say so in a header.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type CacheOutcome = 'hit' | 'miss' | 'coalesced';

export interface CacheScope {
  /** Serve no stored result older than the renew grace (renewQuery, cache: no-cache / must-revalidate). */
  readonly renew: boolean;
  readonly outcomes: CacheOutcome[];
}

const storage = new AsyncLocalStorage<CacheScope>();

export function runInCacheScope<T>(scope: CacheScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentCacheScope(): CacheScope | undefined {
  return storage.getStore();
}

/** One word for a request's statements: a miss if any ran, else coalesced if any joined one, else hit. */
export function summarizeOutcomes(outcomes: readonly CacheOutcome[]): CacheOutcome | undefined {
  if (outcomes.length === 0) return undefined;
  if (outcomes.includes('miss')) return 'miss';
  return outcomes.includes('coalesced') ? 'coalesced' : 'hit';
}
