/**
 * `npx tsx bench/compile.ts`: compile throughput per stage (queries per second for
 * resolve, plan and render) over the demo model, then /load against the express + pg
 * floor running the identical SQL, both measured in this run.
 *
 * Env: DATABASE_URL (needed for the /load part; skipped without it), BENCH_COMPILE_MS (1500),
 * BENCH_DURATION_SEC (5), BENCH_CONNECTIONS (20).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase } from '../src/db/create-database.js';
import { seedDemo } from '../src/db/seed.js';
import { loadModel } from '../src/schema/load-model.js';
import { createApp } from '../src/server/create-app.js';
import { createAppDeps } from '../src/server/create-app-deps.js';
import { createLogger } from '../src/server/create-logger.js';
import { parseWireQuery } from '../src/query/wire-query.js';
import { compileStages } from './compile-stages.js';

const COMPILE_MS = Number(process.env.BENCH_COMPILE_MS ?? 1500);
const DURATION_SEC = Number(process.env.BENCH_DURATION_SEC ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SECRET = 'tessera-bench-secret-0123456789abcdef';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONTEXT = { u: { id: 42 }, tenant_id: 2 };

/** Queries of growing shape: one cube, a join, a fan-out (keys subqueries), a rolling window. */
const QUERIES: Record<string, unknown> = {
  'filtered count': { measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'equals', values: ['completed'] }] },
  'month-grouped sum': { measures: ['Orders.totalAmount'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }] },
  'join + dimensions': { measures: ['Orders.count'], dimensions: ['Users.city', 'Orders.status'], order: { 'Orders.count': 'desc' } },
  'fan-out sum': { measures: ['Orders.totalAmount', 'OrderItems.count'], dimensions: ['Users.city'] },
};

/** Runs `fn` for about `ms` milliseconds and returns calls per second. */
function rate(fn: () => void, ms: number): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < until) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function compileBench(): Promise<void> {
  const model = await loadModel(path.join(ROOT, 'schema'));
  const rows: string[][] = [];
  for (const [name, raw] of Object.entries(QUERIES)) {
    const stages = compileStages(model, parseWireQuery(raw), CONTEXT);
    const resolve = rate(stages.resolve, COMPILE_MS);
    const plan = rate(stages.plan, COMPILE_MS);
    const render = rate(stages.render, COMPILE_MS);
    const all = rate(stages.all, COMPILE_MS);
    rows.push([name, resolve.toFixed(0), plan.toFixed(0), render.toFixed(0), all.toFixed(0)]);
  }
  console.log(`Compile throughput (queries/s, one core)\n${table(['query', 'resolve', 'plan', 'render', 'all three'], rows)}\n`);
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

async function drive(url: string, headers: Record<string, string>, sec: number) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: sec, headers });
  return { rps: r.requests.average, errors: r.errors + r.timeouts + r.non2xx };
}

async function loadBench(url: string): Promise<void> {
  const env = { ...process.env, DATABASE_URL: url, CUBEJS_API_SECRET: SECRET, TESSERA_QUERY_RATE_LIMIT: '1000000000', LOG_LEVEL: 'warn' };
  const config = await loadConfig({ env });
  const logger = createLogger({ level: config.logLevel });
  await seedDemo(url);
  const db = createDatabase({ ...config.database, url }, logger);
  const tessera = await listen(createApp(await createAppDeps({ config, db, logger })));
  const base = `http://127.0.0.1:${(tessera.address() as AddressInfo).port}`;
  const auth = { Authorization: jwt.sign(CONTEXT, SECRET, { algorithm: 'HS256', expiresIn: '1h' }) };
  const pool = new pg.Pool({ connectionString: url, max: config.database.poolMax });
  const statements = new Map<string, { text: string; values: unknown[] }>();
  const floorApp = express();
  floorApp.get('/q/:name', async (req, res) => {
    res.json({ data: (await pool.query({ ...statements.get(req.params.name)!, name: `floor_${req.params.name}` })).rows });
  });
  const floor = await listen(floorApp);
  const floorBase = `http://127.0.0.1:${(floor.address() as AddressInfo).port}`;
  const rows: string[][] = [];
  try {
    for (const [name, query] of Object.entries(QUERIES)) {
      const qs = new URLSearchParams({ query: JSON.stringify(query) }).toString();
      const sqlRes = await fetch(`${base}/cubejs-api/v1/sql?${qs}`, { headers: auth });
      if (!sqlRes.ok) throw new Error(`/sql answered ${sqlRes.status}`);
      const [text, values] = ((await sqlRes.json()) as { sql: { sql: [string, unknown[]] } }).sql.sql;
      const slug = name.replace(/\W+/g, '-');
      statements.set(slug, { text, values });
      await drive(`${floorBase}/q/${slug}`, {}, 1);
      await drive(`${base}/cubejs-api/v1/load?${qs}`, auth, 1);
      const f = await drive(`${floorBase}/q/${slug}`, {}, DURATION_SEC);
      const t = await drive(`${base}/cubejs-api/v1/load?${qs}`, auth, DURATION_SEC);
      rows.push([name, f.rps.toFixed(0), t.rps.toFixed(0), (t.rps / f.rps).toFixed(2), `${f.errors + t.errors}`]);
    }
  } finally {
    await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => tessera.close(r));
    await new Promise((r) => floor.close(r));
    await pool.end();
    await db.close();
  }
  console.log(`/load vs the express + pg floor (prepared statement), ${CONNECTIONS} connections, ${DURATION_SEC} s each\n${table(['query', 'floor req/s', 'tessera req/s', 'ratio', 'errors'], rows)}`);
}

async function main(): Promise<void> {
  await compileBench();
  const url = process.env.DATABASE_URL;
  if (url) await loadBench(url);
  else console.log('DATABASE_URL not set: /load part skipped.');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
