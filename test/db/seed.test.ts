import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_COUNTS, DEMO_MARK, SeedRefusedError, seedDemo } from '../../src/db/seed.js';
import { testDatabaseUrl } from '../support/test-app.js';

/** A throwaway database next to the test database, so seeding never touches shared tables. */
async function withScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tessera_seed_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

async function queryOne(url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[];
    const last = Array.isArray(result) ? result[result.length - 1]! : result;
    return last.rows[0] as Record<string, unknown>;
  } finally {
    await client.end();
  }
}

const FINGERPRINT = `select md5(string_agg(concat_ws('|', id, user_id, tenant_id, product_id, status, amount, quantity, created_at, shipped_at, notes), ',' order by id)) as orders,
  (select md5(string_agg(concat_ws('|', id, order_id, product_id, quantity, price), ',' order by id)) from tessera_demo.order_items) as items
  from tessera_demo.orders`;

describe('seedDemo', () => {
  let scratch: { url: string; drop(): Promise<void> };
  let first: Awaited<ReturnType<typeof seedDemo>>;
  beforeAll(async () => {
    scratch = await withScratchDatabase();
    first = await seedDemo(scratch.url);
  });
  afterAll(async () => {
    await scratch.drop();
  });

  it('creates the demo tables with the documented sizes', async () => {
    expect(first.seeded).toBe(true);
    const counts = await queryOne(scratch.url, `select
      (select count(*) from tessera_demo.tenants)::int as tenants, (select count(*) from tessera_demo.users)::int as users,
      (select count(*) from tessera_demo.products)::int as products, (select count(*) from tessera_demo.orders)::int as orders,
      (select count(*) from tessera_demo.user_profiles)::int as profiles,
      (select count(*) from tessera_demo.order_items)::int as items,
      (select count(*) from (select order_id, count(*) c from tessera_demo.order_items group by 1) x where c between 1 and 4)::int as orders_with_items`);
    expect(counts).toMatchObject({ tenants: 5, users: 1000, products: 200, orders: DEMO_COUNTS.orders, orders_with_items: DEMO_COUNTS.orders });
    expect(counts.orders as number).toBeGreaterThanOrEqual(120_000);
    expect(counts.profiles as number).toBeGreaterThan(700);
    expect(counts.profiles as number).toBeLessThan(900);
  });

  it("keeps every user in tenant ((id - 1) % 5) + 1 and every order in its user's tenant", async () => {
    const row = await queryOne(scratch.url, `select
      (select count(*) from tessera_demo.users where tenant_id <> ((id - 1) % 5) + 1)::int as bad_users,
      (select count(*) from tessera_demo.orders o join tessera_demo.users u on u.id = o.user_id where o.tenant_id <> u.tenant_id)::int as bad_orders,
      (select count(*) from tessera_demo.orders where user_id = 42)::int as user_42_orders`);
    expect(row).toMatchObject({ bad_users: 0, bad_orders: 0 });
    expect(row.user_42_orders as number).toBeGreaterThan(0);
  });

  it('spans 2023-01-01 to 2025-12-31 UTC, with orders close to midnight', async () => {
    const row = await queryOne(scratch.url, `select min(created_at) >= '2023-01-01T00:00:00Z' as starts, max(created_at) < '2026-01-01T00:00:00Z' as ends,
      count(*) filter (where created_at::time >= '23:30' ) > 1000 as late, count(*) filter (where created_at::time < '00:30') > 1000 as early,
      count(distinct status) as statuses from tessera_demo.orders`);
    expect(row).toEqual({ starts: true, ends: true, late: true, early: true, statuses: '4' });
  });

  it('leaves shipped_at NULL exactly for orders that have not shipped, and notes NULL for some', async () => {
    const row = await queryOne(scratch.url, `select
      count(*) filter (where shipped_at is null and status in ('completed','shipped'))::int as missing,
      count(*) filter (where shipped_at is not null and status in ('processing','cancelled'))::int as unexpected,
      count(*) filter (where notes is null) > 0 as null_notes, count(*) filter (where notes = '') > 0 as empty_notes
      from tessera_demo.orders`);
    expect(row).toEqual({ missing: 0, unexpected: 0, null_notes: true, empty_notes: true });
  });

  it('includes names with %, _, backslash and quotes', async () => {
    const row = await queryOne(scratch.url, `select array_agg(name order by id) as names from tessera_demo.products where id <= 6`);
    expect(row.names).toEqual(['50% Off_Bundle', 'Back\\Slash Kit', "O'Reilly Book", '"Quoted" Widget', '100%_Pure Cotton', 'under_score item']);
  });

  it('does nothing the second time, and recreates the same data with force', async () => {
    const before = await queryOne(scratch.url, FINGERPRINT);
    expect((await seedDemo(scratch.url)).seeded).toBe(false);
    expect((await seedDemo(scratch.url, { force: true })).seeded).toBe(true);
    expect(await queryOne(scratch.url, FINGERPRINT)).toEqual(before);
  });

  it('serialises concurrent seeders so exactly one seeds', async () => {
    await queryOne(scratch.url, 'drop table tessera_demo.order_items, tessera_demo.orders, tessera_demo.user_profiles, tessera_demo.products, tessera_demo.users, tessera_demo.tenants, tessera_demo.tessera_demo_seed');
    const results = await Promise.all([seedDemo(scratch.url), seedDemo(scratch.url)]);
    expect(results.map((r) => r.seeded).sort()).toEqual([false, true]);
  });
});

describe('seedDemo on a database with its own tables', () => {
  it('seeds into its own schema tessera_demo by default and writes nothing into public', async () => {
    const scratch = await withScratchDatabase();
    try {
      await queryOne(scratch.url, "create table public.orders (id int primary key, secret text); insert into public.orders values (1, 'keep me')");
      expect((await seedDemo(scratch.url)).seeded).toBe(true);
      expect(await queryOne(scratch.url, 'select count(*)::int as n from tessera_demo.orders')).toEqual({ n: DEMO_COUNTS.orders });
      expect(await queryOne(scratch.url, 'select secret from public.orders')).toEqual({ secret: 'keep me' });
      expect(await queryOne(scratch.url, `select array_agg(c.relname::text order by c.relname) as names from pg_class c
        join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`)).toEqual({ names: ['orders', 'orders_pkey'] });
      expect(await queryOne(scratch.url, "select obj_description('tessera_demo'::regnamespace, 'pg_namespace') as mark")).toEqual({ mark: DEMO_MARK });
    } finally {
      await scratch.drop();
    }
  });

  it('refuses a schema named tessera_demo that it did not create, and leaves it as it was', async () => {
    const scratch = await withScratchDatabase();
    try {
      await queryOne(scratch.url, "create schema tessera_demo; create table tessera_demo.orders (id int primary key, secret text); insert into tessera_demo.orders values (1, 'keep me')");
      await expect(seedDemo(scratch.url, { force: true })).rejects.toThrow(/tessera_demo exists and was not created by tessera seed/);
      expect(await queryOne(scratch.url, 'select secret from tessera_demo.orders')).toEqual({ secret: 'keep me' });
      expect(await queryOne(scratch.url, "select count(*)::int as n from pg_tables where schemaname in ('tessera_demo', 'public')")).toEqual({ n: 1 });
    } finally {
      await scratch.drop();
    }
  });

  it('asked for public, refuses to overwrite an orders table it did not create', async () => {
    const scratch = await withScratchDatabase();
    try {
      await queryOne(scratch.url, "create table public.orders (id int primary key, secret text); insert into public.orders values (1, 'keep me')");
      await expect(seedDemo(scratch.url, { schema: 'public' })).rejects.toBeInstanceOf(SeedRefusedError);
      expect(await queryOne(scratch.url, 'select secret from public.orders')).toEqual({ secret: 'keep me' });
    } finally {
      await scratch.drop();
    }
  });

  it('asked for public, refuses with --force too, and leaves the user table and everything else as it was', async () => {
    const scratch = await withScratchDatabase();
    try {
      await queryOne(scratch.url, "create table public.orders (id int primary key, secret text); insert into public.orders values (1, 'keep me')");
      const error = await seedDemo(scratch.url, { schema: 'public', force: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SeedRefusedError);
      expect((error as Error).message).toContain('public.orders');
      expect(await queryOne(scratch.url, 'select secret from public.orders')).toEqual({ secret: 'keep me' });
      expect(await queryOne(scratch.url, "select count(*)::int as n from pg_tables where schemaname = 'public'")).toEqual({ n: 1 });
    } finally {
      await scratch.drop();
    }
  });

  it('seeds into a schema of its own, which --force recreates without touching the user tables of the same names elsewhere', async () => {
    const scratch = await withScratchDatabase();
    try {
      await queryOne(scratch.url, "create table public.orders (id int primary key, secret text); insert into public.orders values (1, 'keep me')");
      expect((await seedDemo(scratch.url, { schema: 'tessera_demo' })).seeded).toBe(true);
      expect((await seedDemo(scratch.url, { schema: 'tessera_demo', force: true })).seeded).toBe(true);
      expect(await queryOne(scratch.url, 'select count(*)::int as n from tessera_demo.orders')).toEqual({ n: DEMO_COUNTS.orders });
      expect(await queryOne(scratch.url, 'select secret from public.orders')).toEqual({ secret: 'keep me' });
      // Every table the seed made carries its mark, which is what --force checks before dropping.
      expect(await queryOne(scratch.url, `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'tessera_demo' and c.relkind = 'r' and obj_description(c.oid, 'pg_class') = '${DEMO_MARK}'`)).toEqual({ n: 7 });
    } finally {
      await scratch.drop();
    }
  });

  it('refuses to write into an existing schema it did not create', async () => {
    const scratch = await withScratchDatabase();
    try {
      await queryOne(scratch.url, 'create schema analytics; create table analytics.kept (v int)');
      await expect(seedDemo(scratch.url, { schema: 'analytics' })).rejects.toThrow(/analytics exists and was not created by tessera seed/);
      expect(await queryOne(scratch.url, "select count(*)::int as n from pg_tables where schemaname = 'analytics'")).toEqual({ n: 1 });
    } finally {
      await scratch.drop();
    }
  });

  it('a user table that replaced a demo table after seeding is not dropped by --force', async () => {
    const scratch = await withScratchDatabase();
    try {
      await seedDemo(scratch.url, { schema: 'tessera_demo' });
      await queryOne(scratch.url, "drop table tessera_demo.order_items; create table tessera_demo.order_items (v text); insert into tessera_demo.order_items values ('mine')");
      await expect(seedDemo(scratch.url, { schema: 'tessera_demo', force: true })).rejects.toThrow(/tessera_demo\.order_items/);
      expect(await queryOne(scratch.url, 'select v from tessera_demo.order_items')).toEqual({ v: 'mine' });
    } finally {
      await scratch.drop();
    }
  });
});
