/**
 * `npx tsx bench/prepared-statements.ts`: named (prepared once per connection)
 * versus unnamed (parsed each time) statements, for a cheap and a heavy query
 * on the demo data, on one connection, alternating rounds. Prints ms per
 * statement and the unnamed/named ratio measured in the same run.
 *
 * Env: DATABASE_URL (required), BENCH_ROUNDS (3).
 */
import pg from 'pg';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const QUERIES = {
  cheap: {
    repeat: 2000,
    text: `SELECT "orders".status AS "orders__status", count("orders".id) AS "orders__count"
      FROM (SELECT * FROM tessera_demo.orders WHERE user_id = $1 AND tenant_id = $2) AS "orders"
      WHERE ("orders".status = $3) GROUP BY 1 ORDER BY 2 DESC LIMIT 10000`,
    values: [42, 2, 'completed'],
  },
  heavy: {
    repeat: 20,
    text: `SELECT "users".city AS "users__city", date_trunc('month', "orders".created_at AT TIME ZONE 'UTC') AS "orders__created_at_month",
        sum("orders".amount) AS "orders__total_amount", count(DISTINCT "orders".user_id) AS "orders__unique_users"
      FROM (SELECT * FROM tessera_demo.orders WHERE tenant_id = ANY($1)) AS "orders"
      LEFT JOIN (SELECT * FROM tessera_demo.users WHERE tenant_id = ANY($1)) AS "users" ON "orders".user_id = "users".id
      WHERE ("orders".status <> $2) GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 10000`,
    values: [[1, 2, 3, 4, 5], 'cancelled'],
  },
} as const;

async function msPerStatement(client: pg.Client, q: (typeof QUERIES)[keyof typeof QUERIES], name: string | undefined): Promise<number> {
  const statement = { text: q.text, values: [...q.values], ...(name ? { name } : {}) };
  for (let i = 0; i < 5; i += 1) await client.query(statement);
  const started = performance.now();
  for (let i = 0; i < q.repeat; i += 1) await client.query(statement);
  return (performance.now() - started) / q.repeat;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL to a database with the demo data (npm run seed)');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const [label, q] of Object.entries(QUERIES)) {
      const named: number[] = [];
      const unnamed: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        unnamed.push(await msPerStatement(client, q, undefined));
        named.push(await msPerStatement(client, q, `bench_${label}`));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const [n, u] = [median(named), median(unnamed)];
      console.log(`${label}: named ${n.toFixed(3)} ms, unnamed ${u.toFixed(3)} ms per statement; unnamed/named = ${(u / n).toFixed(2)}`);
    }
  } finally {
    await client.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
