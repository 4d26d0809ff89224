/**
 * Prepared /load requests (validated, policies applied, planned, compiled) kept per app, so an
 * identical request from an identical context is not validated and compiled again. The key is
 * the query exactly as sent plus the whole verified context; anything that could make preparing
 * depend on more than that is never memoised: relative dates (they resolve against the clock)
 * and user hooks (queryRewrite, contextToGroups) that may read anything.
 */
import { LRUCache } from 'lru-cache';
import type { AuthResult } from '../auth/auth-result.js';

export interface PrepareMemo<P> {
  /** `prepare(query)` once per key; failures are not kept, so a bad request fails again in full. */
  prepare(query: unknown, auth: AuthResult, run: (query: unknown) => Promise<P>): Promise<P>;
}

export interface PrepareMemoOptions {
  readonly maxEntries: number;
  /** False when a config hook (queryRewrite, contextToGroups) takes part in preparing. */
  readonly enabled: boolean;
}

// Date filters and ranges may be relative ("last 7 days"), so their SQL values depend on the clock.
const CLOCK_DEPENDENT = /date/i;
// Dashboards repeat small queries; a huge one (thousands of filter values) would hold megabytes per entry.
const MAX_QUERY_CHARS = 8192;

export function createPrepareMemo<P extends object>(opts: PrepareMemoOptions): PrepareMemo<P> {
  const lru = new LRUCache<string, P>({ max: opts.maxEntries });
  return {
    async prepare(query, auth, run) {
      if (!opts.enabled) return run(query);
      const text = typeof query === 'string' ? query : JSON.stringify(query);
      if (text === undefined || text.length > MAX_QUERY_CHARS || CLOCK_DEPENDENT.test(text)) return run(query);
      const key = JSON.stringify([text, auth.via, auth.securityContext, auth.rawContext]);
      const held = lru.get(key);
      if (held !== undefined) return held;
      const prepared = await run(query);
      lru.set(key, prepared);
      return prepared;
    },
  };
}
