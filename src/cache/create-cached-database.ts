/**
 * The result cache as a decorator of `Database`: `query()` answers from the memory tier, then the
 * shared tier (Redis), then the database; identical statements in flight run once. The key is
 * everything that decides the answer (see `cache-key.ts`); errors are never cached.
 */
import type { Logger } from 'pino';
import type { CompiledSql, Database, QueryResult } from '../db/database.js';
import type { Model } from '../schema/model.js';
import { resultCacheKey } from './cache-key.js';
import type { CacheOutcome, CacheScope } from './cache-scope.js';
import { createRefreshPolicy } from './refresh-policy.js';
import { encodeEntry, type CachedEntry, type MemoryStore, type SharedStore } from './result-store.js';

/** Counters for metrics (the metrics stage registers them with prom-client). */
export interface ResultCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly coalesced: number;
  /** Shared-tier (Redis) reads or writes that failed; the request fell back to the database. */
  readonly sharedErrors: number;
  readonly memoryBytes: number;
  readonly memoryEntries: number;
}

export interface CachedDatabase extends Database {
  stats(): ResultCacheStats;
  /** This database for one request: it follows `scope.renew` and records each statement's outcome there. */
  scoped(scope: CacheScope): Database;
  /**
   * The key and expiry of a live memory entry for this statement, or undefined (absent, stale,
   * or its refresh_key must be checked first). Runs nothing and counts nothing.
   */
  peek(compiled: CompiledSql): { readonly key: string; readonly expiresAtMs: number } | undefined;
  /** Counts statements answered from a stored response built on their entries (see response-memo.ts). */
  countHits(n: number): void;
}

export interface CachedDatabaseOptions {
  readonly model: Model;
  readonly memory: MemoryStore;
  readonly shared?: SharedStore | undefined;
  readonly now?: () => number;
  /** Freshness of a cube without `refresh_key` (Cube: 10 s). */
  readonly defaultRefreshMs?: number;
  /** Longest life of an entry governed only by `refresh_key.sql`. */
  readonly maxAgeMs?: number;
  /** A renewing request still takes a result another renewing request made this recently (its own Continue-wait retry). */
  readonly renewGraceMs?: number;
  readonly logger?: Logger | undefined;
}

export const DEFAULT_REFRESH_MS = 10_000;

/** Cached rows are handed to every caller that hits them, so no caller may change them. */
function freezeResult(result: QueryResult): QueryResult {
  for (const row of result.rows) Object.freeze(row);
  Object.freeze(result.rows);
  Object.freeze(result.fields);
  return Object.freeze(result);
}

export function createCachedDatabase(db: Database, opts: CachedDatabaseOptions): CachedDatabase {
  const now = opts.now ?? Date.now;
  const { memory, shared, logger } = opts;
  const renewGraceMs = opts.renewGraceMs ?? 0;
  const modelVersion = opts.model.version ?? '';
  const policy = createRefreshPolicy({
    model: opts.model,
    db,
    now,
    defaultEveryMs: opts.defaultRefreshMs ?? DEFAULT_REFRESH_MS,
    maxAgeMs: opts.maxAgeMs ?? 3_600_000,
    logger,
  });
  /** Statements running now, with the abort signal of the request that started each. */
  const inFlight = new Map<string, { readonly result: Promise<QueryResult>; readonly signal: AbortSignal | undefined }>();
  const counts = { hits: 0, misses: 0, coalesced: 0, sharedErrors: 0 };

  const record = (outcome: CacheOutcome, scope: CacheScope | undefined): void => {
    if (outcome === 'hit') counts.hits += 1;
    else if (outcome === 'miss') counts.misses += 1;
    else counts.coalesced += 1;
    scope?.outcomes.push(outcome);
  };

  const sharedFailed = (err: unknown, op: string): void => {
    counts.sharedErrors += 1;
    logger?.warn({ err: { message: (err as Error)?.message }, op }, 'shared result cache unavailable; using the database');
  };

  // A renewing retry (after Continue wait) takes the fresh result its first attempt started, nothing older.
  const usable = (entry: CachedEntry | undefined, renew: boolean): entry is CachedEntry =>
    entry !== undefined && (!renew || (entry.renewed === true && now() - entry.storedAtMs <= renewGraceMs));

  /** Shared tier, then the database; stores what the database answered in both tiers. */
  const fill = async (key: string, compiled: CompiledSql, ttlMs: number, scope: CacheScope | undefined): Promise<{ result: QueryResult; outcome: CacheOutcome }> => {
    const renew = scope?.renew ?? false;
    if (shared) {
      const entry = await shared.get(key).catch((err: unknown) => {
        sharedFailed(err, 'get');
        return undefined;
      });
      if (usable(entry, renew)) {
        memory.set(key, entry, encodeEntry(entry).length, now());
        return { result: entry.result, outcome: 'hit' };
      }
    }
    const result = freezeResult(await db.query(compiled, scope?.statement));
    const storedAtMs = now();
    const entry: CachedEntry = { result, storedAtMs, expiresAtMs: storedAtMs + ttlMs, ...(renew ? { renewed: true } : {}) };
    const encoded = encodeEntry(entry);
    memory.set(key, entry, encoded.length, storedAtMs);
    // The shared write is off the request's path: the rows are ready, and the other replicas can wait a moment.
    if (shared) void shared.set(key, entry, encoded).catch((err: unknown) => sharedFailed(err, 'set'));
    return { result, outcome: 'miss' };
  };

  const keyOf = (compiled: CompiledSql, state: string): string =>
    resultCacheKey({
      sql: compiled.sql,
      params: compiled.params,
      settings: compiled.settings,
      dataSource: compiled.dataSource ?? 'default',
      modelVersion,
      refreshState: state,
    });

  const lookup = (compiled: CompiledSql, ttlMs: number, state: string, scope: CacheScope | undefined): Promise<QueryResult> | QueryResult => {
    const renew = scope?.renew ?? false;
    const key = keyOf(compiled, state);
    const held = memory.get(key, now());
    if (usable(held, renew)) {
      record('hit', scope);
      return held.result;
    }
    const pending = inFlight.get(key);
    if (pending) {
      record('coalesced', scope);
      // The request that started the statement may hang up and cancel it; a joiner still waiting runs it again.
      return pending.result.catch((err: unknown) => {
        const startedByOtherAbort = pending.signal?.aborted === true && err === pending.signal.reason;
        if (!startedByOtherAbort || scope?.statement?.signal?.aborted) throw err;
        return lookup(compiled, ttlMs, state, scope);
      });
    }
    const run = fill(key, compiled, ttlMs, scope);
    const result = run.then((r) => r.result);
    inFlight.set(key, { result, signal: scope?.statement?.signal });
    const settle = (): void => {
      inFlight.delete(key);
    };
    run.then((r) => {
      settle();
      record(r.outcome, scope);
    }, settle);
    return result;
  };

  const query = async (compiled: CompiledSql, scope: CacheScope | undefined): Promise<QueryResult> => {
    const refresh = policy.stateFor(compiled.cubes, compiled.dataSource ?? 'default');
    const { state, ttlMs } = refresh instanceof Promise ? await refresh : refresh;
    return lookup(compiled, ttlMs, state, scope);
  };
  const close = async (): Promise<void> => {
    await Promise.all([db.close(), shared?.close()]);
  };

  return {
    knex: db.knex,
    ping: () => db.ping(),
    query: (compiled) => query(compiled, undefined),
    scoped: (scope) => ({ knex: db.knex, ping: () => db.ping(), close, query: (compiled) => query(compiled, scope) }),
    stats: () => ({ ...counts, memoryBytes: memory.bytes, memoryEntries: memory.entries }),
    peek(compiled) {
      const refresh = policy.stateFor(compiled.cubes, compiled.dataSource ?? 'default');
      if (refresh instanceof Promise) {
        // The check runs anyway when the statement is queried; here it must not go unhandled.
        refresh.catch(() => undefined);
        return undefined;
      }
      const key = keyOf(compiled, refresh.state);
      const held = memory.get(key, now());
      return held ? { key, expiresAtMs: held.expiresAtMs } : undefined;
    },
    countHits(n) {
      counts.hits += n;
    },
    close,
  };
}
