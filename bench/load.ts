/**
 * `npm run bench`: the scenarios, Tessera against the floor for this stack (a minimal
 * express + pg handler running the identical SQL, taken from Tessera's /sql, over a pool of
 * the same size). Each server runs in its own process so its CPU time per request is its own;
 * the runs are interleaved (floor, Tessera, floor, Tessera) so drift hits both alike.
 *
 * Env: DATABASE_URL (else the embedded demo database), BENCH_DURATION_SEC (10 per server and
 * scenario), BENCH_CONNECTIONS (20), BENCH_SCENARIOS (names to run, separated by |), LOG_LEVEL (warn),
 * BENCH_NO_CACHE=1 (also interleave a Tessera with TESSERA_CACHE=false, to show what the cache costs or buys),
 * BENCH_PREPARED=1 (also interleave the floor running the SQL as a named prepared statement).
 */
import path from 'node:path';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../src/config/load-config.js';
import type { EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { seedDemo } from '../src/db/seed.js';
import type { FloorStatement } from './bench-server.js';
import { startChild, type Child } from './bench-child.js';

const DURATION_SEC = Number(process.env.BENCH_DURATION_SEC ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const WARMUP_SEC = 2;
const BENCH_SECRET = 'tessera-bench-secret-0123456789abcdef';
/** Every bench user is in one tenant, so only the user id and the filter value vary. */
const TENANT = 2;
const SENTINEL_VALUE = '7777.77';
const SENTINEL_USER = 4242;

type Query = Record<string, unknown>;

const cheap = (v: string): Query => ({
  measures: ['Orders.count'],
  filters: [{ member: 'Orders.amount', operator: 'gt', values: [v] }],
});
const heavy = (v: string): Query => ({
  measures: ['Orders.count', 'Orders.totalAmount'],
  dimensions: ['Products.category'],
  timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }],
  filters: [{ member: 'Orders.amount', operator: 'gt', values: [v] }],
  order: { 'Orders.createdAt': 'asc', 'Products.category': 'asc' },
});

interface Scenario {
  readonly name: string;
  readonly statement: string;
  readonly query: (v: string) => Query;
  /** A user id per request (undefined: the tenant-wide token). */
  readonly user: (n: number) => number | undefined;
  /** The filter value per request. */
  readonly value: (n: number) => string;
  readonly target: string;
}

/** A new value per request, so no two requests share a result. */
const fresh = (n: number): string => ((n % 1_000_000) / 1000).toFixed(3);

const SCENARIOS: readonly Scenario[] = [
  { name: 'cheap uncached', statement: 'cheap', query: cheap, user: () => 42, value: fresh, target: '≥ 0.90' },
  { name: 'heavy uncached', statement: 'heavy', query: heavy, user: () => undefined, value: fresh, target: '≥ 0.95' },
  { name: 'heavy repeated', statement: 'heavy', query: heavy, user: () => undefined, value: () => '10', target: '≥ 10' },
  { name: '5,000 users, cheap', statement: 'cheap', query: cheap, user: (n) => 1 + (n % 5000), value: fresh, target: '≥ 0.80' },
];

interface Figures {
  requests: number;
  seconds: number;
  cpuMs: number;
  errors: number;
  latencies: number[];
}

const empty = (): Figures => ({ requests: 0, seconds: 0, cpuMs: 0, errors: 0, latencies: [] });

async function drive(
  child: Child,
  pathFor: (n: number) => string,
  headersFor: (n: number) => Record<string, string>,
  durationSec: number,
  into?: Figures,
): Promise<void> {
  let n = Math.floor(Math.random() * 1_000_000);
  const cpuBefore = await child.cpuMs();
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}`,
    connections: CONNECTIONS,
    duration: durationSec,
    requests: [
      {
        setupRequest: (req) => {
          n += 1;
          return { ...req, method: 'GET', path: pathFor(n), headers: { ...req.headers, ...headersFor(n) } };
        },
      },
    ],
  });
  // Requests still in flight when autocannon stops are counted in the CPU; a short pause lets them finish.
  await new Promise((r) => setTimeout(r, 200));
  const cpuAfter = await child.cpuMs();
  if (!into) return;
  into.requests += result.requests.total;
  into.seconds += durationSec;
  into.cpuMs += cpuAfter - cpuBefore;
  into.errors += result.errors + result.timeouts + result.non2xx;
  into.latencies.push(result.latency.p50);
}

async function main(): Promise<void> {
  const baseEnv = {
    ...process.env,
    CUBEJS_API_SECRET: process.env.CUBEJS_API_SECRET ?? process.env.TESSERA_API_SECRET ?? BENCH_SECRET,
    // The benchmark hammers /load from few subjects; the per-subject limiter would measure itself.
    TESSERA_QUERY_RATE_LIMIT: '1000000000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const config = await loadConfig({ env: baseEnv });
  const secret = config.apiSecrets[0] as string;

  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    const { startEmbeddedPostgres } = await import('../src/db/embedded-postgres.js');
    const { createLogger } = await import('../src/server/create-logger.js');
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.dataDir ?? '.tessera', 'pgdata'),
      logger: createLogger({ level: config.logLevel }),
    });
    url = embedded.url;
  }
  await seedDemo(url);
  const env = { ...baseEnv, DATABASE_URL: url };
  const [tessera, floor] = await Promise.all([startChild('tessera', env), startChild('floor', env)]);
  const prepared = process.env.BENCH_PREPARED === '1';
  const uncachedTessera = process.env.BENCH_NO_CACHE === '1' ? await startChild('tessera', { ...env, TESSERA_CACHE: 'false' }) : undefined;

  const tokens = new Map<number | undefined, string>();
  const tokenFor = (user: number | undefined): string => {
    let token = tokens.get(user);
    if (token === undefined) {
      const payload = user === undefined ? { sub: 'bench-tenant', tenant_id: TENANT } : { sub: `user-${user}`, u: { id: user }, tenant_id: TENANT };
      token = jwt.sign(payload, secret, { algorithm: 'HS256', expiresIn: '2h' });
      tokens.set(user, token);
    }
    return token;
  };
  for (let u = 1; u <= 5000; u += 1) tokenFor(u);
  const loadPath = (q: Query): string => `/cubejs-api/v1/load?${new URLSearchParams({ query: JSON.stringify(q) })}`;

  // The floor runs Tessera's own SQL: ask /sql with sentinels and note where the values land.
  const statements: Record<string, FloorStatement> = {};
  const tesseraBase = `http://127.0.0.1:${tessera.port}`;
  for (const s of SCENARIOS) {
    if (statements[s.statement]) continue;
    const user = s.user(0) === undefined ? undefined : SENTINEL_USER;
    const qs = new URLSearchParams({ query: JSON.stringify(s.query(SENTINEL_VALUE)) });
    const res = await fetch(`${tesseraBase}/cubejs-api/v1/sql?${qs}`, { headers: { Authorization: tokenFor(user) } });
    if (!res.ok) throw new Error(`/sql answered ${res.status}: ${await res.text()}`);
    const [text, params] = ((await res.json()) as { sql: { sql: [string, unknown[]] } }).sql.sql;
    const indexesOf = (value: string) => params.flatMap((p, i) => (String(p) === value ? [i] : []));
    statements[s.statement] = { text, params, valueIndexes: indexesOf(SENTINEL_VALUE), userIndexes: indexesOf(String(SENTINEL_USER)) };
    console.log(`${s.statement}: ${JSON.stringify(text)}\n  params ${JSON.stringify(params)}`);
  }
  floor.proc.send({ type: 'sql', statements });

  console.log(`\n${CONNECTIONS} connections, ${DURATION_SEC} s per server and scenario (two interleaved halves), pool ${config.database.poolMax}\n`);
  const wanted = process.env.BENCH_SCENARIOS?.split('|').map((s) => s.trim());
  const rows: string[][] = [];
  try {
    for (const s of SCENARIOS) {
      if (wanted && !wanted.includes(s.name)) continue;
      const tesseraPath = (n: number) => loadPath(s.query(s.value(n)));
      const tesseraHeaders = (n: number) => ({ Authorization: tokenFor(s.user(n)) });
      const floorPath = (n: number) => `/q/${s.statement}?v=${s.value(n)}&u=${s.user(n) ?? ''}`;
      const check = await fetch(`${tesseraBase}${tesseraPath(1)}`, { headers: tesseraHeaders(1) });
      if (!check.ok) throw new Error(`/load answered ${check.status}: ${await check.text()}`);
      const rowCount = ((await check.json()) as { data: unknown[] }).data.length;

      await drive(floor, floorPath, () => ({}), WARMUP_SEC);
      await drive(tessera, tesseraPath, tesseraHeaders, WARMUP_SEC);
      if (uncachedTessera) await drive(uncachedTessera, tesseraPath, tesseraHeaders, WARMUP_SEC);
      const preparedPath = (n: number) => floorPath(n).replace('/q/', '/p/');
      if (prepared) await drive(floor, preparedPath, () => ({}), WARMUP_SEC);
      const f = empty();
      const t = empty();
      const u = empty();
      const p = empty();
      for (let round = 0; round < 2; round += 1) {
        await drive(floor, floorPath, () => ({}), DURATION_SEC / 2, f);
        await drive(tessera, tesseraPath, tesseraHeaders, DURATION_SEC / 2, t);
        if (uncachedTessera) await drive(uncachedTessera, tesseraPath, tesseraHeaders, DURATION_SEC / 2, u);
        if (prepared) await drive(floor, preparedPath, () => ({}), DURATION_SEC / 2, p);
      }
      const rps = (x: Figures) => x.requests / x.seconds;
      const cpu = (x: Figures) => x.cpuMs / Math.max(1, x.requests);
      rows.push([
        s.name,
        String(rowCount),
        rps(f).toFixed(0),
        cpu(f).toFixed(3),
        rps(t).toFixed(0),
        cpu(t).toFixed(3),
        (rps(t) / rps(f)).toFixed(2),
        (cpu(t) / cpu(f)).toFixed(2),
        s.target,
        `${f.errors}/${t.errors}`,
        ...(uncachedTessera ? [`${(rps(u) / rps(f)).toFixed(2)} (${cpu(u).toFixed(3)} ms)`] : []),
        ...(prepared ? [`${(rps(p) / rps(f)).toFixed(2)} (${cpu(p).toFixed(3)} ms)`] : []),
      ]);
      console.log(`${s.name}: floor ${rps(f).toFixed(0)} req/s, Tessera ${rps(t).toFixed(0)} req/s`);
    }
  } finally {
    await Promise.all([tessera.stop(), floor.stop(), uncachedTessera?.stop()]);
    await embedded?.stop();
  }

  const header = ['scenario', 'rows', 'floor req/s', 'floor CPU ms/req', 'Tessera req/s', 'Tessera CPU ms/req', 'Tessera / floor', 'CPU ratio', 'target', 'errors f/t'];
  if (uncachedTessera) header.push('no cache / floor (CPU)');
  if (prepared) header.push('prepared floor / floor (CPU)');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
  console.log('\nTessera / floor = req/s ratio; CPU ratio = Tessera CPU per request ÷ the floor\'s (target ≤ 1.5 on the cheap query).');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
