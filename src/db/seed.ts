/**
 * Creates and fills the demo dataset (public schema) entirely server-side.
 * Deterministic: every pseudo-random value is a hash of a row id. Idempotent:
 * a marker table records the seeded version; concurrent seeders serialise on
 * an advisory lock.
 */
import pg from 'pg';
import type { Database } from './database.js';

/** Bump when the dataset changes so existing databases are re-seeded. */
export const DEMO_SEED_VERSION = 1;

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

/**
 * Seeds the demo dataset unless the marker says it is already there.
 * `force` drops and recreates the demo tables. Refuses to overwrite tables of the
 * same names that Tessera did not create.
 */
export async function seedDemo(target: SeedTarget, opts: { force?: boolean } = {}): Promise<SeedResult> {
  const started = performance.now();
  const seeded = await inTransaction(target, async (exec) => {
    await exec(`select pg_advisory_xact_lock(${SEED_LOCK_KEY})`);
    const [state] = await exec(`
      select to_regclass('public.tessera_demo_seed') is not null as has_marker,
             (select count(*) from unnest(array[${DEMO_TABLES.map((t) => `'public.${t}'`).join(', ')}]) t(name)
                where to_regclass(t.name) is not null)::int as existing_tables`);
    const hasMarker = state?.has_marker === true;
    if (hasMarker && !opts.force) {
      const rows = await exec('select max(version) as version from public.tessera_demo_seed');
      if (rows[0]?.version === DEMO_SEED_VERSION) return false;
    }
    if (!hasMarker && Number(state?.existing_tables) > 0 && !opts.force) {
      throw new SeedRefusedError(
        `The database already has tables named like the demo's (${DEMO_TABLES.join(', ')}) that Tessera did not create; refusing to overwrite them (use --force to replace them)`,
      );
    }
    await exec(SEED_SQL);
    return true;
  });
  return { seeded, ms: Math.round(performance.now() - started) };
}

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
const SEED_SQL = `
set local statement_timeout = 0;
set local time zone 'UTC';

create function pg_temp.rnd(id bigint, salt int) returns bigint language sql immutable parallel safe as
  $$ select hashint8extended(id, salt) & 2147483647 $$;

drop table if exists public.order_items, public.orders, public.user_profiles, public.products,
  public.users, public.tenants, public.tessera_demo_seed cascade;

create table public.tenants (id int primary key, name text not null, plan text not null);
create table public.users (
  id int primary key, tenant_id int not null, name text not null,
  email text not null, city text not null, created_at timestamptz not null);
create table public.user_profiles (
  user_id int primary key, bio text, tier text not null, marketing_opt_in boolean not null);
create table public.products (id int primary key, name text not null, category text not null, price numeric(10,2) not null);
create table public.orders (
  id int primary key, user_id int not null, tenant_id int not null,
  product_id int not null, status text not null, amount numeric(12,2) not null,
  quantity int not null, created_at timestamptz not null, shipped_at timestamptz, notes text);
create table public.order_items (
  id int primary key, order_id int not null,
  product_id int not null, quantity int not null, price numeric(10,2) not null);
create table public.tessera_demo_seed (version int not null, seeded_at timestamptz not null default now());

insert into public.tenants (id, name, plan) values
  (1, 'Acme Corp', 'enterprise'), (2, 'Globex', 'pro'), (3, 'Initech', 'free'),
  (4, 'Umbrella', 'pro'), (5, 'Stark Industries', 'enterprise');

insert into public.users (id, tenant_id, name, email, city, created_at)
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

insert into public.user_profiles (user_id, bio, tier, marketing_opt_in)
select id,
  case when pg_temp.rnd(id, 21) % 3 = 0 then null else 'Bio of user ' || id end,
  (array['free','pro','enterprise'])[1 + pg_temp.rnd(id, 22) % 3],
  pg_temp.rnd(id, 23) % 2 = 0
from generate_series(1, ${DEMO_COUNTS.users}) as g(id)
where pg_temp.rnd(id, 20) % 5 <> 0;

insert into public.products (id, name, category, price)
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

insert into public.order_items (id, order_id, product_id, quantity, price)
select (o.id - 1) * 4 + n, o.id, p.id, 1 + (pg_temp.rnd((o.id - 1) * 4 + n, 42) % 3)::int, p.price
from generate_series(1, ${DEMO_COUNTS.orders}) as o(id)
cross join lateral generate_series(1, 1 + (pg_temp.rnd(o.id, 40) % 4)::int) as n
join public.products p on p.id = 1 + pg_temp.rnd((o.id - 1) * 4 + n, 41) % ${DEMO_COUNTS.products};

insert into public.orders (id, user_id, tenant_id, product_id, status, amount, quantity, created_at, shipped_at, notes)
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
      from public.order_items group by order_id) i on i.order_id = o.id;

-- Foreign keys are added after the load: one validation pass instead of a trigger per row.
alter table public.users add foreign key (tenant_id) references public.tenants(id);
alter table public.user_profiles add foreign key (user_id) references public.users(id);
alter table public.orders add foreign key (user_id) references public.users(id),
  add foreign key (tenant_id) references public.tenants(id), add foreign key (product_id) references public.products(id);
alter table public.order_items add foreign key (order_id) references public.orders(id),
  add foreign key (product_id) references public.products(id);

create index orders_user_id_idx on public.orders (user_id);
create index orders_tenant_id_idx on public.orders (tenant_id);
create index orders_created_at_idx on public.orders (created_at);
create index order_items_order_id_idx on public.order_items (order_id);
create index users_tenant_id_idx on public.users (tenant_id);

insert into public.tessera_demo_seed (version) values (${DEMO_SEED_VERSION});
analyze public.tenants, public.users, public.user_profiles, public.products, public.orders, public.order_items;
`;
