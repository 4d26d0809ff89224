/**
 * `npx tsx bench/rls.ts`: the per-query cost of row-level security (a short
 * transaction with SET LOCAL ROLE and request.jwt.claims) against the same
 * statement with RLS off, measured in the same run on the same pool.
 *
 * Env: DATABASE_URL (required; a superuser, to create the bench role), BENCH_QUERIES (2000), BENCH_CONCURRENCY (8).
 */
import pg from 'pg';
import { pino } from 'pino';
import { createDatabase } from '../src/db/create-database.js';
import type { CompiledSql } from '../src/db/database.js';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('bench/rls.ts needs DATABASE_URL\n');
  process.exit(2);
}
const QUERIES = Number(process.env.BENCH_QUERIES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SCHEMA = 'tessera_bench_rls';
const ROLE = 'tessera_bench_rls_query';

async function setUp(): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`
    drop schema if exists ${SCHEMA} cascade;
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${ROLE}') then create role ${ROLE} nologin; end if;
    end $$;
    create schema ${SCHEMA};
    grant usage on schema ${SCHEMA} to ${ROLE};
    create table ${SCHEMA}.orders (id int primary key, tenant_id int not null, amount numeric(10,2) not null);
    insert into ${SCHEMA}.orders select g, 1 + g % 5, (g % 1000) / 10.0 from generate_series(1, 100000) g;
    create index on ${SCHEMA}.orders (tenant_id);
    analyze ${SCHEMA}.orders;
    grant select on ${SCHEMA}.orders to ${ROLE};
    alter table ${SCHEMA}.orders enable row level security;
    create policy tenant on ${SCHEMA}.orders for select to ${ROLE}
      using (tenant_id = (current_setting('request.jwt.claims', true)::json->>'tenant_id')::int);`);
  await admin.end();
}

async function tearDown(): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists ${SCHEMA} cascade; drop role if exists ${ROLE}`);
  await admin.end();
}

/** Runs `make(i)` QUERIES times, CONCURRENCY at a time; returns mean milliseconds per query. */
async function measure(db: ReturnType<typeof createDatabase>, make: (i: number) => CompiledSql): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < QUERIES) await db.query(make(next++));
    }),
  );
  return (performance.now() - started) / QUERIES;
}

const claims = (tenant: number) => JSON.stringify({ sub: `user-${tenant}`, tenant_id: tenant });
const CASES: Record<string, { off: (i: number) => CompiledSql; on: (i: number) => CompiledSql }> = {
  'point read by id': {
    off: (i) => ({ sql: `select id, amount from ${SCHEMA}.orders where id = $1 and tenant_id = $2`, params: [1 + (i % 1000) * 5, 1 + ((1 + (i % 1000) * 5) % 5)] }),
    on: (i) => ({ sql: `select id, amount from ${SCHEMA}.orders where id = $1`, params: [1 + (i % 1000) * 5], settings: { role: ROLE, claims: claims(1 + ((1 + (i % 1000) * 5) % 5)) } }),
  },
  'tenant sum (20k rows)': {
    off: (i) => ({ sql: `select count(*), sum(amount) from ${SCHEMA}.orders where tenant_id = $1`, params: [1 + (i % 5)] }),
    on: (i) => ({ sql: `select count(*), sum(amount) from ${SCHEMA}.orders`, params: [], settings: { role: ROLE, claims: claims(1 + (i % 5)) } }),
  },
};

await setUp();
const db = createDatabase({ url: url!, poolMax: CONCURRENCY, statementTimeoutMs: 30_000, connectionTimeoutMs: 5000 }, pino({ level: 'warn' }));
try {
  process.stdout.write(`RLS cost per query: ${QUERIES} queries per case, ${CONCURRENCY} at a time (mean ms per query)\n`);
  for (const [name, c] of Object.entries(CASES)) {
    // Warm both paths (connections, plans) before measuring.
    await measure(db, c.off);
    await measure(db, c.on);
    const off = await measure(db, c.off);
    const on = await measure(db, c.on);
    process.stdout.write(`  ${name.padEnd(24)} off ${off.toFixed(3)} ms   on ${on.toFixed(3)} ms   ratio on/off ${(on / off).toFixed(2)}x   +${(on - off).toFixed(3)} ms\n`);
  }
} finally {
  await db.close();
  await tearDown();
}
