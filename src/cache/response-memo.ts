/**
 * Shaped /load responses kept beside the result cache, so a repeated dashboard request skips
 * shaping and JSON serialisation too. A body is keyed by the result-cache keys of the entries it
 * was shaped from plus everything shaping reads (the caller's query, output columns, compare
 * range, query type), so it is shared exactly as far as its rows are, and it dies with them.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CompiledSql } from '../db/database.js';
import type { CachedDatabase } from './create-cached-database.js';

/** A shaped body and its row count (for the audit record of a request it answers). */
export interface StoredResponse {
  readonly body: string;
  readonly rows: number;
}

export interface ResponseMemo {
  get(key: string, nowMs: number): StoredResponse | undefined;
  set(key: string, response: StoredResponse, expiresAtMs: number, nowMs: number): void;
}

export function createResponseMemo(opts: { readonly maxBytes: number }): ResponseMemo {
  const lru = new LRUCache<string, StoredResponse & { readonly expiresAtMs: number }>({
    maxSize: opts.maxBytes,
    sizeCalculation: (v) => v.body.length * 2 + 128,
  });
  return {
    get(key, nowMs) {
      const held = lru.get(key);
      if (held === undefined) return undefined;
      if (held.expiresAtMs <= nowMs) {
        lru.delete(key);
        return undefined;
      }
      return held;
    },
    set(key, response, expiresAtMs, nowMs) {
      lru.set(key, { body: response.body, rows: response.rows, expiresAtMs }, { ttl: Math.max(1, expiresAtMs - nowMs) });
    },
  };
}

/** The memo key: result keys in statement order, then the shaping inputs. */
export function responseKey(resultKeys: readonly string[], shaping: unknown): string {
  return createHash('sha256').update(JSON.stringify(['tessera-response-v1', resultKeys, shaping])).digest('hex');
}

/** What `responseKeyFor` needs of a prepared /load request (the pipeline's PreparedRequest). */
export interface MemoizableRequest {
  readonly queryType: string;
  readonly pivotQuery: unknown;
  readonly queries: readonly {
    readonly query: { readonly total?: boolean | undefined };
    readonly compiled: CompiledSql & { readonly columns: unknown };
    readonly plan: { readonly cubes: readonly string[] };
    readonly compareDateRange?: string | undefined;
  }[];
}

/**
 * The memo key of a request whose every statement has a live memory entry, with the earliest
 * expiry among them; undefined otherwise, or for `total` queries (their count statement is built later).
 */
export function responseKeyFor(
  db: Pick<CachedDatabase, 'peek'>,
  prepared: MemoizableRequest,
  multi: boolean,
): { readonly key: string; readonly expiresAtMs: number } | undefined {
  const keys: string[] = [];
  let expiresAtMs = Number.POSITIVE_INFINITY;
  for (const p of prepared.queries) {
    if (p.query.total) return undefined;
    const held = db.peek({ ...p.compiled, cubes: p.plan.cubes });
    if (!held) return undefined;
    keys.push(held.key);
    expiresAtMs = Math.min(expiresAtMs, held.expiresAtMs);
  }
  const shaping = [multi, prepared.queryType, prepared.pivotQuery, prepared.queries.map((p) => [p.query, p.compiled.columns, p.compareDateRange ?? null])];
  return { key: responseKey(keys, shaping), expiresAtMs };
}
