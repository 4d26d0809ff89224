/**
 * `npx tsx bench/cache-overhead.ts`: CPU time per statement of the result cache's miss path and
 * hit path against the bare database, interleaved in rounds, no HTTP (DATABASE_URL required).
 */
import { pino } from 'pino';
import { createCachedDatabase } from '../src/cache/create-cached-database.js';
import { createMemoryStore } from '../src/cache/result-store.js';
import { createDatabase } from '../src/db/create-database.js';
import type { CompiledSql, Database } from '../src/db/database.js';
import { loadModel } from '../src/schema/load-model.js';

const N = Number(process.env.BENCH_STATEMENTS ?? 4000);
const CONCURRENCY = 20;
const inner = createDatabase({ url: process.env.DATABASE_URL as string, poolMax: 10, statementTimeoutMs: 30_000, connectionTimeoutMs: 5000 }, pino({ level: 'silent' }));
const cached = createCachedDatabase(inner, { model: await loadModel('schema'), memory: createMemoryStore({ maxBytes: 64 * 1024 * 1024 }) });
const statement = (v: number): CompiledSql => ({
  sql: 'SELECT count("orders".id) AS "orders__count" FROM (SELECT * FROM tessera_demo.orders WHERE user_id = $1 AND tenant_id = $2) AS "orders" WHERE ("orders".amount > $3) LIMIT 10000',
  params: [42, 2, (v / 1000).toFixed(3)],
  cubes: ['Orders'],
});

let counter = 0;
async function run(db: Database, fresh: boolean): Promise<number> {
  const before = process.cpuUsage();
  let next = 0;
  const base = (counter += N);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        next += 1;
        await db.query(statement(fresh ? base + next : 10));
      }
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / N;
}

const totals = { bare: 0, miss: 0, hit: 0 };
await run(inner, true);
await run(cached, true);
for (let round = 0; round < 3; round += 1) {
  totals.bare += await run(inner, true);
  totals.miss += await run(cached, true);
  totals.hit += await run(cached, false);
}
const ms = (x: number) => (x / 3).toFixed(4);
console.log(`CPU ms per statement (${N} statements × 3 rounds, ${CONCURRENCY} concurrent): bare ${ms(totals.bare)}, cache miss ${ms(totals.miss)}, cache hit ${ms(totals.hit)}`);
console.log(`miss path costs ${((totals.miss - totals.bare) / 3 * 1000).toFixed(1)} µs over the bare database; a hit costs ${(totals.hit / 3 * 1000).toFixed(1)} µs`);
await cached.close();
