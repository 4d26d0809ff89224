/**
 * Builds the result cache from the config at start-up: the memory tier, Redis when REDIS_URL
 * is set, and the cached `Database` in front of the real one.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { Model } from '../schema/model.js';
import { createCachedDatabase, type CachedDatabase } from './create-cached-database.js';
import { createMemoryStore, createRedisStore } from './result-store.js';
import { createResponseMemo, type ResponseMemo } from './response-memo.js';

/** The result cache as the app holds it: the cached database and the shaped responses beside it. */
export interface ResultCache {
  readonly db: CachedDatabase;
  readonly responses: ResponseMemo;
}

/** A renewing retry still takes a result its own Continue-wait started, up to this long after (a loaded server may be slow to get to it). */
const RENEW_GRACE_MARGIN_MS = 10_000;

/**
 * Which database the entries came from (host, port, database name; never the password), so two
 * deployments sharing one Redis under the same prefix cannot mix their answers.
 */
function databaseId(url: string | undefined): string {
  let id = 'embedded';
  if (url) {
    const u = new URL(url);
    id = `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  }
  return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/** The result cache, or undefined when it is off (TESSERA_CACHE=false or a hand-built config). */
export function createResultCache(args: { config: Config; db: Database; model: Model; logger: Logger }): ResultCache | undefined {
  const { config, db, model, logger } = args;
  const cache = config.cache;
  if (!cache?.enabled) return undefined;
  const redisUrl = config.operator.redisUrl;
  // Bounded waits: a slow or absent Redis must cost a request little more than a miss.
  let shared;
  if (redisUrl) {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000 });
    // Connection trouble is counted and logged per failed command; the event itself needs a listener.
    client.on('error', () => undefined);
    shared = createRedisStore(client, { prefix: `${cache.redisPrefix}${databaseId(config.database.url)}:` });
  }
  const cached = createCachedDatabase(db, {
    model,
    memory: createMemoryStore({ maxBytes: cache.maxBytes }),
    shared,
    defaultRefreshMs: cache.defaultRefreshSec * 1000,
    maxAgeMs: cache.maxAgeSec * 1000,
    renewGraceMs: cache.continueWaitMs > 0 ? cache.continueWaitMs + RENEW_GRACE_MARGIN_MS : 0,
    logger: logger.child({ component: 'result-cache' }),
  });
  return { db: cached, responses: createResponseMemo({ maxBytes: cache.maxBytes }) };
}
