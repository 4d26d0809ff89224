/**
 * One benchmark server in its own process, so its CPU time per request can be measured
 * apart from the load generator. `tsx bench/bench-server.ts tessera|floor`, started by
 * `bench/load.ts` with DATABASE_URL set; it reports `{ port }` over IPC, answers
 * `{ type: 'cpu' }` with `process.cpuUsage()`, and `{ type: 'sql', statements }` (floor).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import pg from 'pg';
import { loadConfig } from '../src/config/load-config.js';
// @ts-expect-error: plain JavaScript without types (bin/ is not compiled).
import { builtIsFresh, moduleUrl } from '../bin/fresh-build.js';

/** A statement the floor runs: Tessera's SQL with the per-request value and user id substituted. */
export interface FloorStatement {
  readonly text: string;
  readonly params: readonly unknown[];
  /** Indexes of `params` that take the request's `v` and `u`. */
  readonly valueIndexes: readonly number[];
  readonly userIndexes: readonly number[];
}

export type BenchMessage =
  | { readonly type: 'cpu' }
  | { readonly type: 'sql'; readonly statements: Readonly<Record<string, FloorStatement>> };

const mode = process.argv[2];
const send = (msg: unknown): void => {
  process.send?.(msg);
};

async function startFloor(): Promise<Server> {
  const config = await loadConfig({ env: process.env });
  // Same pool size and timeouts as Tessera; no auth, validation, compilation or shaping.
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: config.database.poolMax,
    statement_timeout: config.database.statementTimeoutMs,
    application_name: 'tessera-bench-floor',
    options: '-c TimeZone=UTC',
  });
  let statements: Readonly<Record<string, FloorStatement>> = {};
  process.on('message', (msg: BenchMessage) => {
    if (msg.type === 'sql') statements = msg.statements;
  });
  const app = express();
  // `/p/:name` runs the same statement as a named (prepared) one: the measurement behind unnamed vs prepared.
  app.get(['/q/:name', '/p/:name'], async (req, res) => {
    const s = statements[req.params.name as string];
    if (!s) {
      res.status(404).json({ error: 'unknown statement' });
      return;
    }
    const params = [...s.params];
    for (const i of s.valueIndexes) params[i] = req.query.v;
    for (const i of s.userIndexes) params[i] = req.query.u;
    try {
      const name = req.path.startsWith('/p/') ? `floor_${req.params.name as string}` : undefined;
      const result = await pool.query({ name, text: s.text, values: params });
      res.json({ data: result.rows });
    } catch {
      res.status(500).json({ error: 'query failed' });
    }
  });
  return app.listen(0, '127.0.0.1');
}

/** Tessera as `npm start` runs it: from dist/ when the build is fresh (as after npm install), else from src/. */
async function startTessera(): Promise<Server> {
  const load = async <T>(path: string): Promise<T> => (await import((moduleUrl as (p: string) => string)(path))) as T;
  const { loadConfig } = await load<typeof import('../src/config/load-config.js')>('config/load-config');
  const { createDatabase } = await load<typeof import('../src/db/create-database.js')>('db/create-database');
  const { createApp } = await load<typeof import('../src/server/create-app.js')>('server/create-app');
  const { createAppDeps } = await load<typeof import('../src/server/create-app-deps.js')>('server/create-app-deps');
  const { createLogger } = await load<typeof import('../src/server/create-logger.js')>('server/create-logger');
  if (!(builtIsFresh as () => boolean)()) console.warn('bench: dist/ is older than src/, so Tessera runs through tsx (run `npm run build` first to bench what npm start runs)');
  const config = await loadConfig({ env: process.env });
  const logger = createLogger({ level: config.logLevel });
  const db = createDatabase({ ...config.database, url: process.env.DATABASE_URL as string }, logger);
  return createApp(await createAppDeps({ config, db, logger })).listen(0, '127.0.0.1');
}

const server = mode === 'floor' ? await startFloor() : await startTessera();
await new Promise((resolve) => (server.listening ? resolve(undefined) : server.once('listening', resolve)));
process.on('message', (msg: BenchMessage) => {
  if (msg.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port: (server.address() as AddressInfo).port });
