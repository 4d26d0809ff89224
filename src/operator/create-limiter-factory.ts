/**
 * Builds rate-limiter-flexible limiters whose counters live in PostgreSQL (the
 * metadata schema) or in Redis when REDIS_URL is set, so every process agrees.
 *
 * `createCounterStoreFactory` adds `addMany`: points for many keys in one round trip (one
 * multi-row upsert, or one Redis pipeline), with the library's own key format and window
 * rules, so batched and single writes land on the same counters.
 */
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import { RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { classifyDatabaseError } from '../db/database-errors.js';
import { META_TABLES } from './migrate-operator-schema.js';

export interface LimiterSpec {
  /** Distinguishes counters of different limiters sharing one store. */
  readonly name: string;
  readonly points: number;
  readonly durationSec: number;
}

export type LimiterFactory = (spec: LimiterSpec) => RateLimiterAbstract;

/** A counter's total in the store after a write, as rate-limiter-flexible reports it. */
export interface StoreCount {
  readonly consumed: number;
  /** Until the window ends; negative when it never does. */
  readonly msBeforeNext: number;
}

/** A limiter plus a batched write of many keys' points. */
export interface CounterStore {
  /** The exact path: `consume` answers from the store and rejects past the limit. */
  readonly limiter: RateLimiterAbstract;
  /**
   * Adds points to each key (never rejects for a limit) and returns the new totals. Keys missing
   * from the answer were not written. Rejects when the store fails.
   */
  addMany(points: ReadonlyMap<string, number>): Promise<Map<string, StoreCount>>;
}

export type CounterStoreFactory = (spec: LimiterSpec) => CounterStore;

interface PgQuery {
  readonly name?: string;
  readonly text: string;
  readonly values?: unknown[];
}

interface PgResult {
  readonly rows: Array<Record<string, unknown>>;
}

interface PgConnection {
  query(q: PgQuery): Promise<PgResult>;
  /** knex's mark for a connection its pool must not hand out again. */
  __knex__disposed?: unknown;
  readonly connection?: { readonly stream?: { destroy(): void } };
}

const redisClients = new Map<string, Redis>();

// One client per URL per process; limiters share it.
function sharedRedis(url: string): Redis {
  let client = redisClients.get(url);
  if (client === undefined) {
    client = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5000 });
    redisClients.set(url, client);
  }
  return client;
}

/** Closes the Redis clients the limiters opened (call once at shutdown). */
export async function closeLimiterConnections(): Promise<void> {
  const clients = [...redisClients.values()];
  redisClients.clear();
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
}

export function createLimiterFactory(options: CounterStoreOptions): LimiterFactory {
  const counters = createCounterStoreFactory(options);
  return (spec) => counters(spec).limiter;
}

export interface CounterStoreOptions {
  readonly knex: Knex;
  readonly schema: string;
  readonly redisUrl?: string | undefined;
}

export function createCounterStoreFactory(options: CounterStoreOptions): CounterStoreFactory {
  const { knex, schema, redisUrl } = options;
  if (redisUrl !== undefined && redisUrl !== '') {
    const client = sharedRedis(redisUrl);
    return (spec) => {
      const limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `tessera:${schema}:${spec.name}`,
        points: spec.points,
        duration: spec.durationSec,
      });
      return { limiter, addMany: (points) => addManyRedis(client, limiter, points) };
    };
  }
  // The library names its prepared statements; they are sent unnamed, so that no two metadata
  // schemas clash on a name and PgBouncer's transaction mode (no named statements) works.
  const pool = {
    async query(q: PgQuery): Promise<PgResult> {
      const conn = (await knex.client.acquireConnection()) as PgConnection;
      try {
        return await conn.query({ text: q.text, values: q.values ?? [] });
      } catch (err) {
        // A connection that timed out or broke is not handed out again (the pool drops a disposed one):
        // after a partition it would hold its stuck statement and time out every limiter write.
        if (classifyDatabaseError(err) === 'ERR_DB_UNAVAILABLE') {
          conn.__knex__disposed = err;
          conn.connection?.stream?.destroy();
        }
        throw err;
      } finally {
        await knex.client.releaseConnection(conn);
      }
    },
  };
  const table = `"${schema}"."${META_TABLES.rateLimits}"`;
  return (spec) => {
    const limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      schemaName: schema,
      tableName: META_TABLES.rateLimits,
      tableCreated: true,
      keyPrefix: spec.name,
      points: spec.points,
      duration: spec.durationSec,
    });
    return { limiter, addMany: (points) => addManyPostgres(pool, table, limiter, points) };
  };
}

/**
 * One statement for every key: RateLimiterPostgres's `_upsert` (a row per `prefix:key`; a row
 * whose `expire` has passed starts a new window at `now + duration`, else the points add up and
 * `expire` stays), as a multi-row upsert. Keys go in sorted, so two processes flushing at once
 * lock the rows in the same order and cannot deadlock.
 */
async function addManyPostgres(
  pool: { query(q: PgQuery): Promise<PgResult> },
  table: string,
  limiter: RateLimiterAbstract,
  points: ReadonlyMap<string, number>,
): Promise<Map<string, StoreCount>> {
  const keys = [...points.keys()].sort();
  if (keys.length === 0) return new Map();
  const now = Date.now();
  const newExpire = limiter.duration > 0 ? now + limiter.duration * 1000 : null;
  const { rows } = await pool.query({
    text: `INSERT INTO ${table} AS t (key, points, expire)
      SELECT u.key, u.points, $3::bigint FROM unnest($1::varchar[], $2::integer[]) WITH ORDINALITY AS u(key, points, n) ORDER BY u.n
      ON CONFLICT (key) DO UPDATE SET
        points = CASE WHEN t.expire <= $4 THEN EXCLUDED.points ELSE t.points + EXCLUDED.points END,
        expire = CASE WHEN t.expire <= $4 THEN EXCLUDED.expire ELSE t.expire END
      RETURNING t.key, t.points, t.expire`,
    values: [keys.map((k) => limiter.getKey(k)), keys.map((k) => points.get(k)), newExpire, now],
  });
  const byStoreKey = new Map(keys.map((k) => [limiter.getKey(k), k]));
  const answer = new Map<string, StoreCount>();
  const at = Date.now();
  for (const row of rows) {
    const key = byStoreKey.get(String(row.key));
    if (key === undefined) continue;
    const expire = row.expire === null ? null : Number(row.expire);
    answer.set(key, { consumed: Number(row.points), msBeforeNext: expire === null ? -1 : Math.max(expire - at, 0) });
  }
  return answer;
}

type RlflxIncr = (key: string, points: string, secDuration: string, limit: string, duration: string) => unknown;

/** One pipeline of the library's own increment script (`rlflxIncr`, defined on the client by RateLimiterRedis). */
async function addManyRedis(client: Redis, limiter: RateLimiterAbstract, points: ReadonlyMap<string, number>): Promise<Map<string, StoreCount>> {
  if (points.size === 0) return new Map();
  const pipeline = client.pipeline();
  const keys = [...points.keys()];
  const secDuration = String(Math.floor(limiter.duration));
  for (const key of keys) {
    (pipeline as unknown as { rlflxIncr: RlflxIncr }).rlflxIncr(limiter.getKey(key), String(points.get(key)), secDuration, String(limiter.points), String(limiter.duration));
  }
  const results = (await pipeline.exec()) ?? [];
  const answer = new Map<string, StoreCount>();
  results.forEach(([err, value], i) => {
    if (err !== null || !Array.isArray(value)) return;
    answer.set(keys[i]!, { consumed: Number(value[0]), msBeforeNext: Number(value[1]) });
  });
  return answer;
}

/** `addMany` for any other limiter (e.g. RateLimiterMemory in tests): one `penalty` per key. */
export function perKeyCounterStore(limiter: RateLimiterAbstract): CounterStore {
  return {
    limiter,
    async addMany(points) {
      const answer = new Map<string, StoreCount>();
      await Promise.all(
        [...points].map(async ([key, n]) => {
          const res = await limiter.penalty(key, n);
          answer.set(key, { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext });
        }),
      );
      return answer;
    },
  };
}
