/**
 * `npm run bench`: drives Tessera's /load with autocannon and compares it with
 * the floor for this stack, a minimal express + pg handler running the
 * identical SQL (taken from Tessera's /sql) over a pool of the same size.
 *
 * Env: DATABASE_URL (else the embedded demo database), BENCH_DURATION_SEC (10),
 * BENCH_CONNECTIONS (50), LOG_LEVEL (warn).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import express from 'express';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase } from '../src/db/create-database.js';
import type { EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { seedDemo } from '../src/db/seed.js';
import { createApp } from '../src/server/create-app.js';
import { createAppDeps } from '../src/server/create-app-deps.js';
import { createLogger } from '../src/server/create-logger.js';

const DURATION_SEC = Number(process.env.BENCH_DURATION_SEC ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP_SEC = 2;
const BENCH_SECRET = 'tessera-bench-secret-0123456789abcdef';

const QUERIES = {
  'filtered count': {
    measures: ['Orders.count'],
    filters: [{ member: 'Orders.status', operator: 'equals', values: ['completed'] }],
  },
  'month-grouped sum': {
    measures: ['Orders.totalAmount'],
    timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }],
  },
} as const;

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

async function drive(url: string, headers: Record<string, string>, durationSec: number): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: durationSec, headers });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

const portOf = (server: Server): number => (server.address() as AddressInfo).port;

async function main(): Promise<void> {
  const env = {
    ...process.env,
    CUBEJS_API_SECRET: process.env.CUBEJS_API_SECRET ?? process.env.TESSERA_API_SECRET ?? BENCH_SECRET,
    // The benchmark is one subject hammering /load; the per-subject limiter would measure itself.
    TESSERA_QUERY_RATE_LIMIT: '1000000000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const config = await loadConfig({ env });
  const logger = createLogger({ level: config.logLevel });

  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    const { startEmbeddedPostgres } = await import('../src/db/embedded-postgres.js');
    embedded = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir ?? '.tessera', 'pgdata'), logger });
    url = embedded.url;
  }
  await seedDemo(url);

  const db = createDatabase({ ...config.database, url }, logger);
  const tessera = await listen(createApp(await createAppDeps({ config, db, logger })));
  const tesseraBase = `http://127.0.0.1:${portOf(tessera)}`;
  const token = jwt.sign({ sub: 'user-42', u: { id: 42 }, tenant_id: 2 }, config.apiSecrets[0]!, { algorithm: 'HS256', expiresIn: '1h' });
  const auth = { Authorization: token };

  // The floor: same pool size and statement timeout, no auth, no validation, no compilation, no shaping.
  const pool = new pg.Pool({
    connectionString: url,
    max: config.database.poolMax,
    statement_timeout: config.database.statementTimeoutMs,
    application_name: 'tessera-bench-floor',
  });
  const floorApp = express();
  const floorSql = new Map<string, { text: string; values: unknown[] }>();
  floorApp.get('/load/:name', async (req, res) => {
    const q = floorSql.get(req.params.name)!;
    const result = await pool.query(q);
    res.json({ data: result.rows });
  });
  // The same floor with a named (prepared) statement, as Tessera uses: the strictest baseline.
  floorApp.get('/prepared/:name', async (req, res) => {
    const q = floorSql.get(req.params.name)!;
    const result = await pool.query({ ...q, name: `floor_${req.params.name}` });
    res.json({ data: result.rows });
  });
  const floor = await listen(floorApp);
  const floorBase = `http://127.0.0.1:${portOf(floor)}`;

  console.log(`Tessera ${tesseraBase} vs floor ${floorBase}; ${CONNECTIONS} connections, ${DURATION_SEC} s each, pool ${config.database.poolMax}\n`);
  const rows: string[][] = [];
  try {
    for (const [name, query] of Object.entries(QUERIES)) {
      const qs = new URLSearchParams({ query: JSON.stringify(query) }).toString();
      const sqlRes = await fetch(`${tesseraBase}/cubejs-api/v1/sql?${qs}`, { headers: auth });
      if (!sqlRes.ok) throw new Error(`/sql answered ${sqlRes.status}: ${await sqlRes.text()}`);
      const [text, values] = ((await sqlRes.json()) as { sql: { sql: [string, unknown[]] } }).sql.sql;
      const slug = name.replace(/\W+/g, '-');
      floorSql.set(slug, { text, values });

      const loadRes = await fetch(`${tesseraBase}/cubejs-api/v1/load?${qs}`, { headers: auth });
      if (!loadRes.ok) throw new Error(`/load answered ${loadRes.status}: ${await loadRes.text()}`);

      const tesseraUrl = `${tesseraBase}/cubejs-api/v1/load?${qs}`;
      const floorUrl = `${floorBase}/load/${slug}`;
      const preparedUrl = `${floorBase}/prepared/${slug}`;
      await drive(floorUrl, {}, WARMUP_SEC);
      await drive(preparedUrl, {}, WARMUP_SEC);
      await drive(tesseraUrl, auth, WARMUP_SEC);
      const f = await drive(floorUrl, {}, DURATION_SEC);
      const p = await drive(preparedUrl, {}, DURATION_SEC);
      const t = await drive(tesseraUrl, auth, DURATION_SEC);
      rows.push(
        [name, 'floor (express + pg)', f.rps.toFixed(0), `${f.p50}`, `${f.p99}`, '', '', `${f.errors}`],
        [name, 'floor, prepared stmt', p.rps.toFixed(0), `${p.p50}`, `${p.p99}`, '', '', `${p.errors}`],
        [name, 'tessera /load', t.rps.toFixed(0), `${t.p50}`, `${t.p99}`, (t.rps / f.rps).toFixed(2), (t.rps / p.rps).toFixed(2), `${t.errors}`],
      );
      console.log(`${name}: SQL ${JSON.stringify(text)} params ${JSON.stringify(values)}`);
    }
  } finally {
    // autocannon stops its clock with requests still in flight; let them finish before closing pools.
    await new Promise((r) => setTimeout(r, 1000));
    await new Promise((r) => tessera.close(r));
    await new Promise((r) => floor.close(r));
    await pool.end();
    await db.close();
    await embedded?.stop();
  }

  const header = ['query', 'server', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'vs prepared', 'errors'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
  console.log('\nratio = Tessera req/s ÷ floor req/s (target ≥ 0.80); vs prepared = ÷ the floor using a prepared statement too');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
