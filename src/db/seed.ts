/**
 * Creates and fills the demo dataset in its own schema (DEMO_SCHEMA by default) entirely server-side.
 * The schema and every table it creates carry the comment DEMO_MARK, and it only ever drops marked tables.
 * Deterministic: every pseudo-random value is a hash of a row id. Idempotent:
 * a marker table records the seeded version; concurrent seeders serialise on
 * an advisory lock.
 */
import pg from 'pg';
import type { Database } from './database.js';

/** Bump when the dataset changes so existing databases are re-seeded. */
export const DEMO_SEED_VERSION = 1;

/** The schema the demo lives in by default, so the seed never writes into `public`. */
export const DEMO_SCHEMA = 'tessera_demo';

export const DEMO_COUNTS = { tenants: 5, users: 1000, products: 200, orders: 125_000 } as const;

const DEMO_TABLES = ['order_items', 'orders', 'user_profiles', 'products', 'users', 'tenants'] as const;

/** Arbitrary constant identifying Tessera's seed in pg_advisory_xact_lock. */
const SEED_LOCK_KEY = 727_451_001;

export type SeedTarget = string | pg.Pool | pg.ClientBase | Pick<Database, 'knex'>;

export interface SeedResult {
  readonly seeded: boolean;
  readonly ms: number;
}

export class SeedRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedRefusedError';
  }
}

type Exec = (sql: string) => Promise<Record<string, unknown>[]>;

/** The comment that marks a demo table (and a demo schema) as created by Tessera's seed. */
export const DEMO_MARK = 'created by tessera seed';

export interface SeedOptions {
  /** Drop and recreate the demo tables; only tables the seed marked as its own are ever dropped. */
  readonly force?: boolean;
  /** Schema of the demo tables (default DEMO_SCHEMA); it must be new or one the seed created (`public` is the only exception). */
  readonly schema?: string;
}

/**
 * Seeds the demo dataset unless the marker says it is already there.
 * Never drops, changes or writes into a table (or a schema other than an explicit `public`) it did not create:
 * a same-named table without the seed's mark stops it, with or without `force`.
 */
export async function seedDemo(target: SeedTarget, opts: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const schema = opts.schema ?? DEMO_SCHEMA;
  const q = quoteIdent(schema);
  const seeded = await inTransaction(target, async (exec) => {
    await exec(`select pg_advisory_xact_lock(${SEED_LOCK_KEY})`);
    const [ns] = await exec(`select n.oid is not null as exists, coalesce(obj_description(n.oid, 'pg_namespace'), '') = '${DEMO_MARK}' as marked
      from (select 1) x left join pg_namespace n on n.nspname = ${quoteLiteral(schema)}`);
    if (schema !== 'public' && ns?.exists === true && ns.marked !== true) {
      throw new SeedRefusedError(`Schema ${schema} exists and was not created by tessera seed; refusing to write into it`);
    }
    const [state] = await exec(`
      select to_regclass('${q}.tessera_demo_seed') is not null as has_marker,
             coalesce((select array_agg(t.name order by t.name) from unnest(array[${DEMO_TABLES.map((t) => `'${t}'`).join(', ')}]) t(name)
               where to_regclass('${q}.' || quote_ident(t.name)) is not null
                 and coalesce(obj_description(to_regclass('${q}.' || quote_ident(t.name)), 'pg_class'), '') <> '${DEMO_MARK}'), '{}') as foreign_tables`);
    const hasMarker = state?.has_marker === true;
    // A marker table without marks on its tables is from a seed before marks existed, which created them all together.
    const legacy = hasMarker && (await exec(`select coalesce(obj_description(to_regclass('${q}.tessera_demo_seed'), 'pg_class'), '') <> '${DEMO_MARK}' as legacy`))[0]?.legacy === true;
    const foreign = (state?.foreign_tables as string[] | undefined) ?? [];
    if (foreign.length > 0 && !legacy) {
      throw new SeedRefusedError(
        `The database already has tables named like the demo's that tessera seed did not create (${foreign.map((t) => `${schema}.${t}`).join(', ')}); refusing to touch them, with or without --force`,
      );
    }
    if (hasMarker && !opts.force) {
      const rows = await exec(`select max(version) as version from ${q}.tessera_demo_seed`);
      if (rows[0]?.version === DEMO_SEED_VERSION) return false;
    }
    if (schema !== 'public' && ns?.exists !== true) await exec(`create schema ${q}; comment on schema ${q} is '${DEMO_MARK}'`);
    await exec(seedSql(q));
    return true;
  });
  return { seeded, ms: Math.round(performance.now() - started) };
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

async function inTransaction<T>(target: SeedTarget, fn: (exec: Exec) => Promise<T>): Promise<T> {
  if (typeof target === 'object' && 'knex' in target) {
    return target.knex.transaction(async (trx) => fn(async (sql) => (await trx.raw(sql)).rows ?? []));
  }
  const own = typeof target === 'string' ? new pg.Client({ connectionString: target }) : undefined;
  if (own) await own.connect();
  const client: pg.ClientBase = own ?? (target instanceof pg.Pool ? await target.connect() : (target as pg.ClientBase));
  const exec: Exec = async (sql) => {
    const result = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    return (last?.rows ?? []) as Record<string, unknown>[];
  };
  try {
    await client.query('begin');
    const value = await fn(exec);
    await client.query('commit');
    return value;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    if (own) await own.end();
    else if (target instanceof pg.Pool) (client as pg.PoolClient).release();
  }
}

/*
 * rnd(id, salt) is PostgreSQL's portable integer hash (the one hash partitioning
 * relies on), so values look random but are the same on every run and server.
 */
const seedSql = (schema: string): string => `
set local statement_timeout = 0;
set local time zone 'UTC';

create function pg_temp.rnd(id bigint, salt int) returns bigint language sql immutable parallel safe as
  $$ select hashint8extended(id, salt) & 2147483647 $$;

-- Only tables carrying the seed's mark reach this point (checked above), so this drops nothing of the user's.
drop table if exists ${schema}.order_items, ${schema}.orders, ${schema}.user_profiles, ${schema}.products,
  ${schema}.users, ${schema}.tenants, ${schema}.tessera_demo_seed;

create table ${schema}.tenants (id int primary key, name text not null, plan text not null);
create table ${schema}.users (
  id int primary key, tenant_id int not null, name text not null,
  email text not null, city text not null, created_at timestamptz not null);
create table ${schema}.user_profiles (
  user_id int primary key, bio text, tier text not null, marketing_opt_in boolean not null);
create table ${schema}.products (id int primary key, name text not null, category text not null, price numeric(10,2) not null);
create table ${schema}.orders (
  id int primary key, user_id int not null, tenant_id int not null,
  product_id int not null, status text not null, amount numeric(12,2) not null,
  quantity int not null, created_at timestamptz not null, shipped_at timestamptz, notes text);
create table ${schema}.order_items (
  id int primary key, order_id int not null,
  product_id int not null, quantity int not null, price numeric(10,2) not null);
create table ${schema}.tessera_demo_seed (version int not null, seeded_at timestamptz not null default now());

insert into ${schema}.tenants (id, name, plan) values
  (1, 'Acme Corp', 'enterprise'), (2, 'Globex', 'pro'), (3, 'Initech', 'free'),
  (4, 'Umbrella', 'pro'), (5, 'Stark Industries', 'enterprise');

insert into ${schema}.users (id, tenant_id, name, email, city, created_at)
select id, ((id - 1) % 5) + 1,
  case id
    when 7 then 'Zoë O''Connor'
    when 13 then 'Ana_Maria 100%'
    else (array['Alice','Bob','Carol','Dave','Erin','Frank','Grace','Heidi','Ivan','Judy','Mallory','Niaj','Olivia','Peggy','Rupert','Sybil'])[1 + pg_temp.rnd(id, 11) % 16]
      || ' ' || (array['Smith','Jones','Garcia','Müller','Rossi','Tanaka','Dubois','Kowalski','Silva','Novak','Larsen','Okafor'])[1 + pg_temp.rnd(id, 12) % 12]
  end,
  'user' || id || '@example.com',
  (array['New York','London','Paris','Berlin','Tokyo','Sydney','São Paulo','Toronto','Mumbai','Auckland'])[1 + pg_temp.rnd(id, 13) % 10],
  timestamptz '2022-01-01 00:00:00+00' + (pg_temp.rnd(id, 14) % (365 * 86400)) * interval '1 second'
from generate_series(1, ${DEMO_COUNTS.users}) as g(id);

insert into ${schema}.user_profiles (user_id, bio, tier, marketing_opt_in)
select id,
  case when pg_temp.rnd(id, 21) % 3 = 0 then null else 'Bio of user ' || id end,
  (array['free','pro','enterprise'])[1 + pg_temp.rnd(id, 22) % 3],
  pg_temp.rnd(id, 23) % 2 = 0
from generate_series(1, ${DEMO_COUNTS.users}) as g(id)
where pg_temp.rnd(id, 20) % 5 <> 0;

insert into ${schema}.products (id, name, category, price)
select id,
  case id
    when 1 then '50% Off_Bundle'
    when 2 then 'Back\\Slash Kit'
    when 3 then 'O''Reilly Book'
    when 4 then '"Quoted" Widget'
    when 5 then '100%_Pure Cotton'
    when 6 then 'under_score item'
    else (array['Classic','Deluxe','Eco','Mini','Pro','Ultra','Smart','Vintage'])[1 + pg_temp.rnd(id, 31) % 8]
      || ' ' || (array['Lamp','Chair','Mug','Backpack','Headphones','Notebook','Bottle','Jacket','Watch','Kettle'])[1 + pg_temp.rnd(id, 32) % 10]
      || ' ' || id
  end,
  (array['Home','Office','Outdoor','Electronics','Apparel','Books'])[1 + pg_temp.rnd(id, 33) % 6],
  round((1.99 + (pg_temp.rnd(id, 34) % 49800) / 100.0)::numeric, 2)
from generate_series(1, ${DEMO_COUNTS.products}) as g(id);

insert into ${schema}.order_items (id, order_id, product_id, quantity, price)
select (o.id - 1) * 4 + n, o.id, p.id, 1 + (pg_temp.rnd((o.id - 1) * 4 + n, 42) % 3)::int, p.price
from generate_series(1, ${DEMO_COUNTS.orders}) as o(id)
cross join lateral generate_series(1, 1 + (pg_temp.rnd(o.id, 40) % 4)::int) as n
join ${schema}.products p on p.id = 1 + pg_temp.rnd((o.id - 1) * 4 + n, 41) % ${DEMO_COUNTS.products};

insert into ${schema}.orders (id, user_id, tenant_id, product_id, status, amount, quantity, created_at, shipped_at, notes)
select o.id, o.user_id, ((o.user_id - 1) % 5) + 1, o.first_product, o.status, i.amount, i.quantity, o.created_at,
  case when o.status in ('completed', 'shipped')
    then o.created_at + (3600 + pg_temp.rnd(o.id, 7) % (10 * 86400)) * interval '1 second' end,
  case pg_temp.rnd(o.id, 8) % 10
    when 0 then 'Leave at the door'
    when 1 then '50% off_applied'
    when 2 then 'Path C:\\orders\\new'
    when 3 then 'O''Brien''s "rush" order'
    when 4 then ''
  end
from (
  select g.id,
    1 + (pg_temp.rnd(g.id, 1) % ${DEMO_COUNTS.users})::int as user_id,
    1 + (pg_temp.rnd((g.id - 1) * 4 + 1, 41) % ${DEMO_COUNTS.products})::int as first_product,
    case
      when pg_temp.rnd(g.id, 4) % 100 < 55 then 'completed'
      when pg_temp.rnd(g.id, 4) % 100 < 75 then 'shipped'
      when pg_temp.rnd(g.id, 4) % 100 < 90 then 'processing'
      else 'cancelled'
    end as status,
    -- Every 40 orders a few land within half an hour of midnight UTC, where time zones move them across days.
    case g.id % 40
      when 0 then d.day + interval '23 hours 30 minutes' + (pg_temp.rnd(g.id, 5) % 1800) * interval '1 second'
      when 1 then d.day + (pg_temp.rnd(g.id, 5) % 1800) * interval '1 second'
      when 2 then d.day
      else d.day + (pg_temp.rnd(g.id, 5) % 86400) * interval '1 second'
    end as created_at
  from generate_series(1, ${DEMO_COUNTS.orders}) as g(id)
  cross join lateral (select timestamptz '2023-01-01 00:00:00+00' + (pg_temp.rnd(g.id, 3) % 1096) * interval '1 day' as day) d
) o
join (select order_id, sum(quantity * price)::numeric(12,2) as amount, sum(quantity)::int as quantity
      from ${schema}.order_items group by order_id) i on i.order_id = o.id;

-- Foreign keys are added after the load: one validation pass instead of a trigger per row.
alter table ${schema}.users add foreign key (tenant_id) references ${schema}.tenants(id);
alter table ${schema}.user_profiles add foreign key (user_id) references ${schema}.users(id);
alter table ${schema}.orders add foreign key (user_id) references ${schema}.users(id),
  add foreign key (tenant_id) references ${schema}.tenants(id), add foreign key (product_id) references ${schema}.products(id);
alter table ${schema}.order_items add foreign key (order_id) references ${schema}.orders(id),
  add foreign key (product_id) references ${schema}.products(id);

create index orders_user_id_idx on ${schema}.orders (user_id);
create index orders_tenant_id_idx on ${schema}.orders (tenant_id);
create index orders_created_at_idx on ${schema}.orders (created_at);
create index order_items_order_id_idx on ${schema}.order_items (order_id);
create index users_tenant_id_idx on ${schema}.users (tenant_id);

insert into ${schema}.tessera_demo_seed (version) values (${DEMO_SEED_VERSION});
${[...DEMO_TABLES, 'tessera_demo_seed'].map((t) => `comment on table ${schema}.${t} is '${DEMO_MARK}';`).join('\n')}
analyze ${schema}.tenants, ${schema}.users, ${schema}.user_profiles, ${schema}.products, ${schema}.orders, ${schema}.order_items;
`;
