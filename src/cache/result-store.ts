/**
 * Where cached results live: an in-memory LRU bounded in bytes, and optionally Redis so
 * replicas share entries, with the memory tier in front.
 */
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type { QueryResult } from '../db/database.js';

export interface CachedEntry {
  readonly result: QueryResult;
  /** When the statement finished (epoch ms). */
  readonly storedAtMs: number;
  /** When the entry goes stale (epoch ms); a later read is a miss. */
  readonly expiresAtMs: number;
  /** Made for a renewing request: only such an entry, and only briefly, satisfies another renewing request. */
  readonly renewed?: boolean | undefined;
}

/** The shared tier: slower, may be down. Failures reject; the caller falls back to the database. */
export interface SharedStore {
  get(key: string): Promise<CachedEntry | undefined>;
  set(key: string, entry: CachedEntry, encoded: string): Promise<void>;
  close(): Promise<void>;
}

export interface MemoryStore {
  /** The live entry, or undefined when absent or past `expiresAtMs` at `nowMs`. */
  get(key: string, nowMs: number): CachedEntry | undefined;
  set(key: string, entry: CachedEntry, bytes: number, nowMs: number): void;
  /** Bytes held (the LRU's calculated size). */
  readonly bytes: number;
  readonly entries: number;
}

/** Bytes of per-entry bookkeeping counted on top of the encoded rows (key, timestamps, LRU node). */
const ENTRY_OVERHEAD_BYTES = 256;
const PURGE_EVERY_MS = 1000;

export function createMemoryStore(opts: { readonly maxBytes: number }): MemoryStore {
  const lru = new LRUCache<string, { entry: CachedEntry; bytes: number }>({
    maxSize: opts.maxBytes,
    sizeCalculation: (v) => v.bytes,
  });
  let purgedAtMs = 0;
  return {
    get(key, nowMs) {
      const held = lru.get(key);
      if (held === undefined) return undefined;
      if (held.entry.expiresAtMs <= nowMs) {
        lru.delete(key);
        return undefined;
      }
      return held.entry;
    },
    set(key, entry, bytes, nowMs) {
      // Stale entries are dropped about once a second, so the heap holds only live ones, not a full budget of dead ones.
      if (Math.abs(nowMs - purgedAtMs) >= PURGE_EVERY_MS) {
        purgedAtMs = nowMs;
        lru.purgeStale();
      }
      const ttl = Math.max(1, entry.expiresAtMs - nowMs);
      // An entry bigger than the whole budget is refused by the LRU rather than evicting everything.
      lru.set(key, { entry, bytes: bytes + ENTRY_OVERHEAD_BYTES }, { ttl });
    },
    get bytes() {
      return lru.calculatedSize;
    },
    get entries() {
      return lru.size;
    },
  };
}

/** JSON of an entry, as Redis stores it; its length is also the memory tier's size estimate. */
export function encodeEntry(entry: CachedEntry): string {
  return JSON.stringify(entry);
}

function decodeEntry(text: string): CachedEntry | undefined {
  const v = JSON.parse(text) as Partial<CachedEntry> | null;
  if (!v || typeof v.storedAtMs !== 'number' || typeof v.expiresAtMs !== 'number' || !v.result || !Array.isArray(v.result.rows)) {
    return undefined;
  }
  return v as CachedEntry;
}

/** Redis under `prefix`; each key expires with its entry (PX), so Redis never holds stale rows. */
export function createRedisStore(client: Redis, opts: { readonly prefix: string; readonly now?: () => number }): SharedStore {
  const now = opts.now ?? Date.now;
  return {
    async get(key) {
      const text = await client.get(opts.prefix + key);
      if (text === null) return undefined;
      const entry = decodeEntry(text);
      return entry && entry.expiresAtMs > now() ? entry : undefined;
    },
    async set(key, entry, encoded) {
      const ttlMs = Math.max(1, Math.ceil(entry.expiresAtMs - now()));
      await client.set(opts.prefix + key, encoded, 'PX', ttlMs);
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
