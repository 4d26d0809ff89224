/**
 * The shared tier against the Redis at 127.0.0.1:6379 (a key prefix unique to this run): two
 * cached databases with their own memory tiers stand for two replicas. Without a reachable
 * Redis, requests still answer from the database.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCachedDatabase } from '../../src/cache/create-cached-database.js';
import { createMemoryStore, createRedisStore } from '../../src/cache/result-store.js';
import type { CompiledSql } from '../../src/db/database.js';
import { loadModel } from '../../src/schema/load-model.js';
import type { Model } from '../../src/schema/model.js';
import { DEMO_SCHEMA_PATH } from '../support/test-app.js';
import { countingDatabase, type CountingDatabase } from './support/counting-database.js';

const PREFIX = `tessera-test:i14:${randomUUID()}:`;
const statement: CompiledSql = { sql: 'SELECT count(*)::int AS n FROM tessera_demo.orders WHERE tenant_id = $1::int', params: [3], cubes: ['Orders'] };

let model: Model;
let inner: CountingDatabase;
let admin: Redis;
const clients: Redis[] = [];

const replica = (prefix = PREFIX, url = 'redis://127.0.0.1:6379') => {
  const client = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 1000, lazyConnect: false });
  client.on('error', () => undefined);
  clients.push(client);
  return createCachedDatabase(inner, { model, memory: createMemoryStore({ maxBytes: 1024 * 1024 }), shared: createRedisStore(client, { prefix }) });
};

/** The shared write is off the request's path; wait until Redis holds `count` entries under `prefix`. */
async function sharedEntries(count: number, prefix = PREFIX): Promise<string[]> {
  let keys: string[] = [];
  for (let i = 0; i < 200 && keys.length < count; i += 1) {
    keys = await admin.keys(`${prefix}*`);
    if (keys.length < count) await new Promise((r) => setTimeout(r, 10));
  }
  return keys;
}

beforeAll(async () => {
  model = await loadModel(DEMO_SCHEMA_PATH);
  inner = countingDatabase();
  admin = new Redis('redis://127.0.0.1:6379');
});
afterAll(async () => {
  const keys = await admin.keys(`${PREFIX}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  await inner.close();
});

describe('the Redis tier of the result cache', () => {
  it('serves on one replica the entry another replica wrote', async () => {
    const a = replica();
    const b = replica();
    const before = inner.ran.length;
    const fromA = await a.query(statement);
    await sharedEntries(1);
    const fromB = await b.query(statement);
    expect(inner.ran.length - before).toBe(1);
    expect(fromB.rows).toEqual(fromA.rows);
    expect(b.stats()).toMatchObject({ hits: 1, misses: 0 });
  });

  it('stores entries under the prefix with an expiry no longer than their freshness', async () => {
    const a = replica();
    await a.query({ ...statement, params: [4] });
    const keys = await sharedEntries(2);
    expect(keys.length).toBe(2);
    for (const key of keys) {
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10_000);
    }
  });

  it('keeps replicas with different prefixes apart', async () => {
    const a = replica();
    const other = replica(`${PREFIX}other:`);
    const before = inner.ran.length;
    await a.query({ ...statement, params: [5] });
    await sharedEntries(3);
    await other.query({ ...statement, params: [5] });
    expect(inner.ran.length - before).toBe(2);
  });

  it('answers from the database when Redis cannot be reached', async () => {
    const down = replica(PREFIX, 'redis://127.0.0.1:1');
    const result = await down.query({ ...statement, params: [1] });
    expect(result.rows).toHaveLength(1);
    expect(down.stats().sharedErrors).toBeGreaterThan(0);
    // The memory tier still holds it.
    const again = await down.query({ ...statement, params: [1] });
    expect(again.rows).toEqual(result.rows);
    expect(down.stats().hits).toBe(1);
  });
});
