/**
 * `npx tsx bench/soak.ts [--duration=600] [--connections=100]`: a soak run of
 * mixed queries from many security contexts against an in-process Tessera.
 * Prints, at the start and the end (and each minute), the server's RSS and the
 * memory of its PostgreSQL backends, then the error count and p50/p99. The
 * goal is flat memory and zero errors. A third of the requests filter on a
 * list of a random length, so the SQL text keeps changing: a per-text prepared
 * statement would grow the backends here.
 *
 * Env: DATABASE_URL (else the embedded demo database), LOG_LEVEL (warn).
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase } from '../src/db/create-database.js';
import type { EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { seedDemo } from '../src/db/seed.js';
import { createApp } from '../src/server/create-app.js';
import { createAppDeps } from '../src/server/create-app-deps.js';
import { createLogger } from '../src/server/create-logger.js';
import { createHttpServer } from '../src/server/start-http-server.js';

const arg = (name: string, fallback: number): number => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = found ? Number(found.split('=')[1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const DURATION_SEC = arg('duration', 600);
const CONNECTIONS = arg('connections', 100);
const USERS = 50;
const SECRET = 'tessera-soak-secret-0123456789abcdef';

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Resident and private (anonymous) memory of a process, from /proc; undefined where /proc cannot be read. */
function procMemory(pid: number): { rss: number; anon: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon') };
  } catch {
    return undefined;
  }
}

async function backendMemory(monitor: pg.Client): Promise<string> {
  const { rows } = await monitor.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database() and application_name like 'tessera%'",
  );
  const mems = rows.map((r) => procMemory(r.pid)).filter((m): m is { rss: number; anon: number } => m !== undefined);
  if (mems.length === 0) return `${rows.length} backends (memory not readable from here)`;
  const anon = mems.reduce((n, m) => n + m.anon, 0);
  const rss = mems.reduce((n, m) => n + m.rss, 0);
  return `${rows.length} backends, private ${mb(anon)} (max ${mb(Math.max(...mems.map((m) => m.anon)))}), RSS ${mb(rss)}`;
}

async function main(): Promise<void> {
  const env = { ...process.env, CUBEJS_API_SECRET: SECRET, TESSERA_QUERY_RATE_LIMIT: '1000000000', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
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
  const server = createHttpServer(createApp(await createAppDeps({ config, db, logger })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();

  const tokens = Array.from({ length: USERS }, (_, i) => jwt.sign({ sub: `user-${i + 1}`, u: { id: i + 1 }, tenant_id: (i % 5) + 1 }, SECRET, { algorithm: 'HS256', expiresIn: '1d' }));
  // POST bodies, since a list of 2,000 values would not fit a URL.
  const body = (query: unknown) => JSON.stringify({ query });
  const statuses = ['completed', 'shipped', 'pending', 'cancelled', 'returned'];
  let n = 0;
  const nextBody = (): string => {
    n += 1;
    switch (n % 3) {
      case 0:
        return body({ measures: ['Orders.count'], dimensions: ['Orders.status'], filters: [{ member: 'Orders.status', operator: 'equals', values: ['completed'] }] });
      case 1:
        return body({ measures: ['Orders.totalAmount', 'Orders.uniqueUsers'], dimensions: ['Users.city'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }] });
      default: {
        // A list of a random length: a new SQL text nearly every time.
        const length = 1 + Math.floor(Math.random() * 2000);
        const values = Array.from({ length }, (_, i) => (i < statuses.length ? statuses[i]! : `none-${i}`));
        return body({ measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'equals', values }] });
      }
    }
  };

  const loadRequest = {
    method: 'POST' as const,
    path: '/cubejs-api/v1/load',
    setupRequest: (r: autocannon.Request) => ({ ...r, headers: { ...r.headers, 'content-type': 'application/json' }, body: nextBody() }),
  };

  const sample = async (label: string): Promise<void> => {
    const m = process.memoryUsage();
    console.log(`${label}: Tessera RSS ${mb(m.rss)} (heap ${mb(m.heapUsed)}); PostgreSQL ${await backendMemory(monitor)}`);
  };

  console.log(`Soak: ${CONNECTIONS} connections, ${DURATION_SEC} s, ${USERS} users over 5 tenants, pool ${config.database.poolMax}, against ${base}`);
  // A short warm-up fills the pool, so "start" compares like with like.
  await autocannon({ url: base, connections: 10, duration: 5, setupClient: (c) => c.setHeaders({ Authorization: tokens[0]! }), requests: [loadRequest] });
  await sample('start');
  const timer = setInterval(() => void sample(`${Math.round(process.uptime())} s`), 60_000);
  let clientNo = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION_SEC,
    setupClient: (client) => {
      clientNo += 1;
      client.setHeaders({ Authorization: tokens[clientNo % USERS]! });
    },
    requests: [loadRequest],
  });
  clearInterval(timer);
  global.gc?.();
  await sample('end');
  const errors = result.errors + result.timeouts + result.non2xx;
  console.log(`requests ${result.requests.total}, ${result.requests.average.toFixed(0)} req/s; errors ${errors} (non-2xx ${result.non2xx}, socket errors ${result.errors}, timeouts ${result.timeouts}); latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
  if (result.non2xx > 0) console.log(`status counts: ${JSON.stringify(result.statusCodeStats)}`);

  await monitor.end();
  await new Promise((resolve) => server.close(resolve));
  await db.close();
  await embedded?.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
