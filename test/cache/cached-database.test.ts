/**
 * The result cache decorator over the real PostgreSQL: what reaches the database is counted by
 * a wrapper under the cache (and, for coalescing, seen in pg_stat_activity), never taken from
 * the cache's own word.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCachedDatabase, type CachedDatabase } from '../../src/cache/create-cached-database.js';
import { createMemoryStore, type MemoryStore } from '../../src/cache/result-store.js';
import type { CompiledSql } from '../../src/db/database.js';
import { loadModel } from '../../src/schema/load-model.js';
import type { Cube, Model } from '../../src/schema/model.js';
import { DEMO_SCHEMA_PATH, testDatabaseUrl } from '../support/test-app.js';
import { countingDatabase, manualClock, type CountingDatabase } from './support/counting-database.js';

const MARKER_TABLE = 'public.i14_cache_refresh_marker';
// Whole 10 s buckets make the default-freshness assertions exact.
const T0 = 1_700_000_000_000;

let demo: Model;
let inner: CountingDatabase;
let admin: pg.Client;
const opened: CachedDatabase[] = [];

beforeAll(async () => {
  demo = await loadModel(DEMO_SCHEMA_PATH);
  admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  await admin.query(`CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (v int NOT NULL)`);
  await admin.query(`TRUNCATE ${MARKER_TABLE}`);
  await admin.query(`INSERT INTO ${MARKER_TABLE} VALUES (1)`);
  // Statements with session settings really run under these roles (SET LOCAL ROLE), so they must exist.
  for (const role of ['tenant_reader', 'other_reader']) {
    await admin.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role}; END IF; END $$`);
    await admin.query(`GRANT USAGE ON SCHEMA tessera_demo TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA tessera_demo, public TO ${role}`);
    await admin.query(`GRANT ${role} TO CURRENT_USER`).catch(() => undefined);
  }
});
afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${MARKER_TABLE}`);
  await admin.end();
  await inner?.close();
});
afterEach(() => {
  opened.length = 0;
});

function withCube(model: Model, name: string, patch: Partial<Cube>, version = model.version): Model {
  const cubes = new Map(model.cubes);
  cubes.set(name, { ...(cubes.get(name) as Cube), ...patch });
  return { ...model, cubes, version };
}

function cached(opts: { model?: Model; now?: () => number; memory?: MemoryStore; renewGraceMs?: number } = {}): CachedDatabase {
  inner ??= countingDatabase();
  const db = createCachedDatabase(inner, {
    model: opts.model ?? demo,
    memory: opts.memory ?? createMemoryStore({ maxBytes: 8 * 1024 * 1024 }),
    now: opts.now,
    renewGraceMs: opts.renewGraceMs,
  });
  opened.push(db);
  return db;
}

const ordersOfTenant = (tenant: unknown, extra: Partial<CompiledSql> = {}): CompiledSql => ({
  sql: 'SELECT count(*)::int AS n FROM tessera_demo.orders WHERE tenant_id = $1::int',
  params: [tenant],
  cubes: ['Orders'],
  ...extra,
});

/** How many statements reached the database since `mark`. */
const ranSince = (mark: number): number => inner.ran.length - mark;
const mark = (): number => (inner ??= countingDatabase()).ran.length;

describe('the result cache in front of the database', () => {
  it('answers a repeated statement from the cache without running it again', async () => {
    const db = cached({ now: manualClock(T0).now });
    const m = mark();
    const first = await db.query(ordersOfTenant(2));
    const second = await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(1);
    expect(second.rows).toEqual(first.rows);
    const truth = await admin.query('SELECT count(*)::int AS n FROM tessera_demo.orders WHERE tenant_id = 2');
    expect(second.rows).toEqual(truth.rows);
    expect(db.stats()).toMatchObject({ hits: 1, misses: 1, coalesced: 0 });
  });

  it('hands out cached rows no caller can change', async () => {
    const db = cached({ now: manualClock(T0).now });
    const first = await db.query(ordersOfTenant(5));
    expect(() => {
      (first.rows[0] as Record<string, unknown>).n = -1;
    }).toThrow(TypeError);
    const again = await db.query(ordersOfTenant(5));
    expect(again.rows[0]?.n).not.toBe(-1);
  });

  it('runs the statement again for a different bound value, and each answer is its own', async () => {
    const db = cached({ now: manualClock(T0).now });
    const m = mark();
    const two = await db.query(ordersOfTenant(2));
    const three = await db.query(ordersOfTenant(3));
    expect(ranSince(m)).toBe(2);
    const truth = await admin.query('SELECT tenant_id, count(*)::int AS n FROM tessera_demo.orders WHERE tenant_id IN (2, 3) GROUP BY 1 ORDER BY 1');
    expect([two.rows[0]?.n, three.rows[0]?.n]).toEqual(truth.rows.map((r: { n: number }) => r.n));
  });

  it('never lets a text parameter share an entry with the same number', async () => {
    const db = cached({ now: manualClock(T0).now });
    const m = mark();
    await db.query(ordersOfTenant(2));
    await db.query(ordersOfTenant('2'));
    expect(ranSince(m)).toBe(2);
  });

  it('runs the statement again under different session settings (role, RLS claims)', async () => {
    const db = cached({ now: manualClock(T0).now });
    const m = mark();
    await db.query(ordersOfTenant(2, { settings: { role: 'tenant_reader', claims: '{"tenant_id":2}' } }));
    await db.query(ordersOfTenant(2, { settings: { role: 'tenant_reader', claims: '{"tenant_id":3}' } }));
    await db.query(ordersOfTenant(2, { settings: { role: 'other_reader', claims: '{"tenant_id":2}' } }));
    await db.query(ordersOfTenant(2, { settings: { role: 'tenant_reader', claims: '{"tenant_id":2}' } }));
    expect(ranSince(m)).toBe(3);
  });

  it('keeps entries of different data sources apart', async () => {
    const db = cached({ now: manualClock(T0).now });
    const m = mark();
    await db.query(ordersOfTenant(2, { dataSource: 'default' }));
    await db.query(ordersOfTenant(2, { dataSource: 'warehouse' }));
    await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(2);
  });

  it('misses after the model version changes, though the SQL is the same', async () => {
    const memory = createMemoryStore({ maxBytes: 1024 * 1024 });
    const clock = manualClock(T0);
    const v1 = cached({ model: { ...demo, version: 'v1' }, memory, now: clock.now });
    const v2 = cached({ model: { ...demo, version: 'v2' }, memory, now: clock.now });
    const v1Again = cached({ model: { ...demo, version: 'v1' }, memory, now: clock.now });
    const m = mark();
    await v1.query(ordersOfTenant(2));
    await v2.query(ordersOfTenant(2));
    await v1Again.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(2);
  });

  it("keeps a cube without refresh_key fresh for Cube's default 10 seconds, then runs it again", async () => {
    const clock = manualClock(T0);
    const db = cached({ now: clock.now });
    const m = mark();
    await db.query(ordersOfTenant(2));
    clock.advance(9_999);
    await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(1);
    clock.advance(1);
    await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(2);
  });

  it('follows refresh_key every: one answer per bucket of the interval', async () => {
    const clock = manualClock(T0 - (T0 % 3_600_000));
    const db = cached({ model: withCube(demo, 'Orders', { refreshKey: { every: '1 hour' } }), now: clock.now });
    const m = mark();
    await db.query(ordersOfTenant(2));
    clock.advance(59 * 60_000);
    await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(1);
    clock.advance(60_000);
    await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(2);
  });

  it('gives a cube whose every it cannot read (a cron string) the 10 second default, not forever', async () => {
    const clock = manualClock(T0);
    const db = cached({ model: withCube(demo, 'Orders', { refreshKey: { every: '0 * * * *' } }), now: clock.now });
    const m = mark();
    await db.query(ordersOfTenant(2));
    clock.advance(10_000);
    await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(2);
  });

  it('uses the shortest refresh_key of the cubes a statement reads', async () => {
    const clock = manualClock(T0 - (T0 % 3_600_000));
    const model = withCube(withCube(demo, 'Orders', { refreshKey: { every: '1 hour' } }), 'Users', { refreshKey: { every: '1 minute' } });
    const db = cached({ model, now: clock.now });
    const joined = ordersOfTenant(2, { cubes: ['Orders', 'Users'] });
    const m = mark();
    await db.query(joined);
    clock.advance(30_000);
    await db.query(joined);
    clock.advance(30_000);
    await db.query(joined);
    expect(ranSince(m)).toBe(2);
  });

  it('follows refresh_key sql: a new value invalidates, and it is checked at most once per interval per data source', async () => {
    const clock = manualClock(T0);
    const refreshSql = `SELECT max(v) AS v FROM ${MARKER_TABLE}`;
    const db = cached({ model: withCube(demo, 'Orders', { refreshKey: { sql: () => refreshSql } }), now: clock.now });
    const checks = (from: number, ds = 'default') => inner.ran.slice(from).filter((s) => s.sql === refreshSql && (s.dataSource ?? 'default') === ds).length;
    const statements = (from: number) => inner.ran.slice(from).filter((s) => s.sql !== refreshSql).length;
    const m = mark();
    await db.query(ordersOfTenant(2));
    clock.advance(1000);
    await db.query(ordersOfTenant(2));
    expect([checks(m), statements(m)]).toEqual([1, 1]);

    await admin.query(`UPDATE ${MARKER_TABLE} SET v = v + 1`);
    // Within the check interval the old value still stands: the key is not looked at again yet.
    clock.advance(1000);
    await db.query(ordersOfTenant(2));
    expect([checks(m), statements(m)]).toEqual([1, 1]);

    clock.advance(10_000);
    await db.query(ordersOfTenant(2));
    expect([checks(m), statements(m)]).toEqual([2, 2]);
    // An unchanged value keeps the entry past the 10 s that a cube without refresh_key would get.
    clock.advance(10_000);
    await db.query(ordersOfTenant(2));
    expect([checks(m), statements(m)]).toEqual([3, 2]);

    await db.query(ordersOfTenant(2, { dataSource: 'warehouse' }));
    expect(checks(m, 'warehouse')).toBe(1);
  });

  it('runs identical statements in flight once and hands every caller the same rows', async () => {
    const db = cached({ now: manualClock(T0).now });
    const marker = `i14-coalesce-${process.pid}-${Date.now()}`;
    const slow: CompiledSql = { sql: `/* ${marker} */ SELECT pg_sleep(1)::text AS nap, $1::int AS v`, params: [7], cubes: ['Orders'] };
    const m = mark();
    const calls = Array.from({ length: 10 }, () => db.query(slow));
    // The one statement is visible in the database while all ten callers wait.
    let active = 0;
    for (let i = 0; i < 50 && active === 0; i += 1) {
      const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()", [`%${marker}%`]);
      active = r.rows[0].n as number;
      if (active === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(active).toBe(1);
    const results = await Promise.all(calls);
    expect(ranSince(m)).toBe(1);
    for (const r of results) expect(r.rows).toEqual([{ nap: '', v: 7 }]);
    expect(db.stats()).toMatchObject({ misses: 1, coalesced: 9 });
  });

  it('does not cache a failed statement', async () => {
    const db = cached({ now: manualClock(T0).now });
    const failing: CompiledSql = { sql: 'SELECT 1 / $1::int AS x', params: [0], cubes: ['Orders'] };
    const m = mark();
    // Division by zero is a data exception: the value did not fit, a 400.
    await expect(db.query(failing)).rejects.toMatchObject({ code: 'ERR_QUERY_INVALID_VALUE' });
    await expect(db.query(failing)).rejects.toMatchObject({ code: 'ERR_QUERY_INVALID_VALUE' });
    expect(ranSince(m)).toBe(2);
  });

  it('lets a renewing request skip a stored result but take one another renewing request made within the grace', async () => {
    const clock = manualClock(T0);
    const db = cached({ now: clock.now, renewGraceMs: 2000 });
    const renew = () => db.scoped({ renew: true, outcomes: [] }).query(ordersOfTenant(2));
    const m = mark();
    await db.query(ordersOfTenant(2));
    await renew();
    expect(ranSince(m)).toBe(2);
    // The retry of a renewing request (after Continue wait) takes the result its first attempt made.
    clock.advance(1000);
    await renew();
    expect(ranSince(m)).toBe(2);
    clock.advance(1001);
    await renew();
    expect(ranSince(m)).toBe(3);
    // The renewed result is an ordinary entry for everyone else.
    await db.query(ordersOfTenant(2));
    expect(ranSince(m)).toBe(3);
  });

  it('records each outcome in the request scope', async () => {
    const db = cached({ now: manualClock(T0).now });
    const scope = { renew: false, outcomes: [] };
    await db.scoped(scope).query(ordersOfTenant(4));
    await db.scoped(scope).query(ordersOfTenant(4));
    expect(scope.outcomes).toEqual(['miss', 'hit']);
  });

  it('keeps the memory tier within its byte budget', async () => {
    const memory = createMemoryStore({ maxBytes: 20_000 });
    const db = cached({ memory, now: manualClock(T0).now });
    for (let i = 0; i < 30; i += 1) {
      await db.query({ sql: "SELECT repeat('x', 1000) AS pad, $1::int AS i", params: [i], cubes: ['Orders'] });
    }
    expect(memory.bytes).toBeLessThanOrEqual(20_000);
    expect(memory.entries).toBeGreaterThan(0);
    expect(memory.entries).toBeLessThan(30);
  });
});
