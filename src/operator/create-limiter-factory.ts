/**
 * Builds rate-limiter-flexible limiters whose counters live in PostgreSQL (the
 * metadata schema) or in Redis when REDIS_URL is set, so every process agrees.
 */
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import { RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { META_TABLES } from './migrate-operator-schema.js';

export interface LimiterSpec {
  /** Distinguishes counters of different limiters sharing one store. */
  readonly name: string;
  readonly points: number;
  readonly durationSec: number;
}

export type LimiterFactory = (spec: LimiterSpec) => RateLimiterAbstract;

interface PgQuery {
  readonly name?: string;
  readonly text: string;
  readonly values?: unknown[];
}

interface PgConnection {
  query(q: PgQuery): Promise<unknown>;
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

export function createLimiterFactory(options: {
  readonly knex: Knex;
  readonly schema: string;
  readonly redisUrl?: string | undefined;
}): LimiterFactory {
  const { knex, schema, redisUrl } = options;
  if (redisUrl !== undefined && redisUrl !== '') {
    const client = sharedRedis(redisUrl);
    return (spec) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `tessera:${schema}:${spec.name}`,
        points: spec.points,
        duration: spec.durationSec,
      });
  }
  // The library names its prepared statements; they are sent unnamed, so that no two metadata
  // schemas clash on a name and PgBouncer's transaction mode (no named statements) works.
  const pool = {
    async query(q: PgQuery): Promise<unknown> {
      const conn = (await knex.client.acquireConnection()) as PgConnection;
      try {
        return await conn.query({ text: q.text, values: q.values ?? [] });
      } finally {
        await knex.client.releaseConnection(conn);
      }
    },
  };
  return (spec) =>
    new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      schemaName: schema,
      tableName: META_TABLES.rateLimits,
      tableCreated: true,
      keyPrefix: spec.name,
      points: spec.points,
      duration: spec.durationSec,
    });
}
