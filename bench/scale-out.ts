/**
 * `npx tsx bench/scale-out.ts`: three Tessera replicas behind haproxy (Debian's `haproxy`
 * package), sharing Redis for the result cache and the limiters, all on 127.0.0.1. It shows
 * (1) a cache entry written by one replica is hit on another, (2) a per-subject rate limit
 * holds across replicas, (3) throughput through the balancer with 1, 2 and 3 replicas.
 *
 * Env: DATABASE_URL (required), REDIS_URL (redis://127.0.0.1:6379), BENCH_DURATION_SEC (10),
 * BENCH_CONNECTIONS (20), HAPROXY (haproxy).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { seedDemo } from '../src/db/seed.js';
import { startChild, type Child } from './bench-child.js';

const DURATION_SEC = Number(process.env.BENCH_DURATION_SEC ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SECRET = 'tessera-scale-out-secret-0123456789abcdef';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = randomUUID().slice(0, 8);
const RATE_LIMIT = 30;
/** The limiters' Redis keys start with `tessera:<meta schema>:`; cleared before and after. */
const META_SCHEMA = 'bench_scale_meta';

const token = (sub: string, user: number) => jwt.sign({ sub, u: { id: user }, tenant_id: ((user - 1) % 5) + 1 }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
const loadPath = (query: object) => `/cubejs-api/v1/load?${new URLSearchParams({ query: JSON.stringify(query) })}`;
const cheap = (v: string) => ({ measures: ['Orders.count'], filters: [{ member: 'Orders.amount', operator: 'gt', values: [v] }] });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startReplicas(n: number, env: NodeJS.ProcessEnv): Promise<Child[]> {
  return Promise.all(Array.from({ length: n }, () => startChild('tessera', env)));
}

/** haproxy in the foreground, round-robin over `ports`. */
async function startBalancer(ports: readonly number[]): Promise<{ port: number; proc: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-haproxy-'));
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  option http-keep-alive',
      'frontend tessera',
      `  bind 127.0.0.1:${port}`,
      '  default_backend replicas',
      'backend replicas',
      '  balance roundrobin',
      ...ports.map((p, i) => `  server r${i + 1} 127.0.0.1:${p}`),
      '',
    ].join('\n'),
  );
  const proc = spawn(process.env.HAPROXY ?? 'haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'inherit', 'inherit'] });
  // Ready once it accepts a request.
  for (let i = 0; i < 100; i += 1) {
    const ok = await fetch(`http://127.0.0.1:${port}/livez`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    proc,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

const stopAll = (children: readonly Child[]) => Promise.all(children.map((c) => c.stop()));

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('bench/scale-out needs DATABASE_URL (a PostgreSQL every replica shares)');
  await seedDemo(url);
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: url,
    CUBEJS_API_SECRET: SECRET,
    REDIS_URL,
    TESSERA_CACHE_REDIS_PREFIX: `tessera-bench:${RUN}:cache:`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const redis = new Redis(REDIS_URL);
  const clearKeys = async (pattern: string) => {
    const keys = await redis.keys(pattern);
    if (keys.length > 0) await redis.del(...keys);
  };
  await clearKeys(`tessera:${META_SCHEMA}:*`);
  const report: string[] = [];
  try {
    // (1) + (2): replicas with a low per-subject limit, counters shared in Redis.
    const limited = await startReplicas(3, { ...base, TESSERA_QUERY_RATE_LIMIT: String(RATE_LIMIT), TESSERA_QUERY_RATE_WINDOW_SEC: '60', TESSERA_META_SCHEMA: META_SCHEMA });
    try {
      const q = cheap(`${Math.random()}`.slice(2, 8));
      const headers = { Authorization: token(`scale-cache-${RUN}`, 42) };
      const [a, b, c] = limited as [Child, Child, Child];
      const onA = await fetch(`http://127.0.0.1:${a.port}${loadPath(q)}`, { headers });
      // Replica 1 writes to Redis just after it answers.
      await new Promise((r) => setTimeout(r, 100));
      const onB = await fetch(`http://127.0.0.1:${b.port}${loadPath(q)}`, { headers });
      const onC = await fetch(`http://127.0.0.1:${c.port}${loadPath(q)}`, { headers });
      const same = JSON.stringify((await onB.json()).data) === JSON.stringify((await onA.json()).data);
      report.push(
        `cache across replicas: replica 1 ${onA.headers.get('x-tessera-cache')}, replica 2 ${onB.headers.get('x-tessera-cache')}, replica 3 ${onC.headers.get('x-tessera-cache')}; same rows: ${same}`,
      );

      const lb = await startBalancer(limited.map((r) => r.port));
      try {
        const limitedToken = { Authorization: token(`scale-limit-${RUN}`, 7) };
        const statuses: number[] = [];
        for (let i = 0; i < RATE_LIMIT * 2; i += 1) {
          const res = await fetch(`http://127.0.0.1:${lb.port}${loadPath(cheap(String(i)))}`, { headers: limitedToken });
          statuses.push(res.status);
          await res.arrayBuffer();
        }
        const ok = statuses.filter((s) => s === 200).length;
        const limitedCount = statuses.filter((s) => s === 429).length;
        report.push(`rate limit ${RATE_LIMIT}/min for one subject, ${statuses.length} requests round-robin over 3 replicas: ${ok} answered, ${limitedCount} refused with 429`);
      } finally {
        await lb.stop();
      }
    } finally {
      await stopAll(limited);
    }

    // (3): throughput through the balancer, cheap uncached and a repeated (cached) query.
    const fast = await startReplicas(3, { ...base, TESSERA_QUERY_RATE_LIMIT: '1000000000', TESSERA_META_SCHEMA: META_SCHEMA });
    try {
      const tokens = Array.from({ length: 200 }, (_, i) => token(`scale-user-${i + 1}`, i + 1));
      for (const n of [1, 2, 3]) {
        const lb = await startBalancer(fast.slice(0, n).map((r) => r.port));
        try {
          const figures: string[] = [];
          for (const [name, fresh] of [['cheap uncached', true], ['cheap repeated', false]] as const) {
            let i = Math.floor(Math.random() * 1e6);
            const result = await autocannon({
              url: `http://127.0.0.1:${lb.port}`,
              connections: CONNECTIONS,
              duration: DURATION_SEC,
              requests: [
                {
                  setupRequest: (req) => {
                    i += 1;
                    const path = loadPath(cheap(fresh ? (i / 1000).toFixed(3) : '10'));
                    return { ...req, path, headers: { ...req.headers, authorization: tokens[i % tokens.length] as string } };
                  },
                },
              ],
            });
            figures.push(`${name} ${result.requests.average.toFixed(0)} req/s (p50 ${result.latency.p50} ms, non-2xx ${result.non2xx})`);
          }
          report.push(`${n} replica${n > 1 ? 's' : ''} behind haproxy: ${figures.join('; ')}`);
        } finally {
          await lb.stop();
        }
      }
    } finally {
      await stopAll(fast);
    }
  } finally {
    await clearKeys(`tessera-bench:${RUN}:*`);
    await clearKeys(`tessera:${META_SCHEMA}:*`);
    await redis.quit();
  }
  console.log(`\n${report.join('\n')}`);
  console.log(`\n(${CONNECTIONS} connections, ${DURATION_SEC} s per run; all replicas share one PostgreSQL and one Redis on this machine)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
