/**
 * `npx tsx bench/plan-cache.ts`: microseconds per prepared /load request over the demo model,
 * preparing from scratch (prepareRequest) against the shape-keyed plan cache, for queries that
 * repeat one shape with a new filter value each time (the dashboards' case). No database is read.
 *
 * Env: BENCH_PREPARE_MS (1500 per measurement).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthResult } from '../src/auth/auth-result.js';
import { createPlanCache } from '../src/cache/plan-cache.js';
import { loadConfig } from '../src/config/load-config.js';
import type { Database } from '../src/db/database.js';
import { createQueryPolicies } from '../src/policy/create-query-policies.js';
import { loadModel } from '../src/schema/load-model.js';
import { prepareRequest, type PipelineDeps, type PreparedRequest } from '../src/server/query-pipeline.js';

const MS = Number(process.env.BENCH_PREPARE_MS ?? 1500);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONTEXT = { sub: 'user-42', u: { id: 42 }, tenant_id: 2 };
const AUTH: AuthResult = { via: 'jwt', rawContext: CONTEXT, securityContext: CONTEXT, scopes: ['query', 'meta'] };

const QUERIES: Record<string, (i: number) => unknown> = {
  'cheap uncached (amount gt v)': (i) => ({ measures: ['Orders.count'], filters: [{ member: 'Orders.amount', operator: 'gt', values: [String(i / 1000 + 0.5)] }] }),
  'join + nested filters': (i) => ({
    measures: ['Orders.count'],
    dimensions: ['Users.city', 'Orders.status'],
    filters: [{ or: [{ member: 'Orders.status', operator: 'in', values: [`s${i}`, 'completed'] }, { member: 'Users.city', operator: 'startsWith', values: [`c${i}`] }] }],
  }),
};

async function perCallUs(fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 500; i++) await fn(i);
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(MS) * 1_000_000n;
  let now = start;
  while (now < until) {
    for (let i = 0; i < 50; i++) await fn(n + i);
    n += 50;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / 1000 / n;
}

const config = await loadConfig({ env: { CUBEJS_SCHEMA_PATH: path.join(ROOT, 'schema'), CUBEJS_API_SECRET: 'bench-secret-0123456789abcdef-xyz' }, cwd: ROOT });
const model = await loadModel(path.join(ROOT, 'schema'));
const deps: PipelineDeps = { config, model, db: undefined as unknown as Database, policies: createQueryPolicies(config, model) };
const run = (q: unknown) => prepareRequest(q, deps, AUTH);

console.log('query'.padEnd(32), 'fresh µs'.padStart(10), 'plan cache µs'.padStart(14));
for (const [name, make] of Object.entries(QUERIES)) {
  const cache = createPlanCache<PreparedRequest>({ maxEntries: 2000, enabled: true, model });
  const fresh = await perCallUs((i) => run(make(i)));
  const cached = await perCallUs((i) => cache.prepare(make(i), AUTH, run));
  console.log(name.padEnd(32), fresh.toFixed(1).padStart(10), cached.toFixed(1).padStart(14), `  (${JSON.stringify(cache.stats())})`);
}
