/**
 * Red team of the shape-keyed plan cache (src/cache/plan-cache.ts) over HTTP: each request is
 * sent to an app with the cache on and to one with it off (TESSERA_CACHE=false), and the two
 * answers must match (status, code, rows), with psql as ground truth where rows matter.
 */
import fc from 'fast-check';
import knexFactory, { type Knex } from 'knex';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { batchLimiterWrites } from '../../src/operator/batch-limiter-writes.js';
import { createCounterStoreFactory, createLimiterFactory } from '../../src/operator/create-limiter-factory.js';
import { migrateOperatorSchema } from '../../src/operator/migrate-operator-schema.js';
import { uniqueSchema } from '../operator/operator-fixtures.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, tenantToken, truth, type Harness } from './support.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { ATTACK_MODEL } from './support.js';
import { signToken } from '../support/tokens.js';
import type { AuthResult } from '../../src/auth/auth-result.js';
import { createPlanCache } from '../../src/cache/plan-cache.js';
import { createQueryPolicies } from '../../src/policy/create-query-policies.js';
import { compileQuery } from '../../src/render/compile-query.js';
import { prepareRequest, type PipelineDeps, type PreparedRequest } from '../../src/server/query-pipeline.js';
import { outcome } from '../cache/support/prepare-outcome.js';

let cached: Harness;
let uncached: TestApp;
beforeAll(async () => {
  cached = await openHarness();
  uncached = await createTestApp({ schemaPath: ATTACK_MODEL, env: { TESSERA_CACHE: 'false' } });
});
afterAll(async () => {
  await cached?.close();
  await uncached?.close();
});

/** POSTs a raw JSON text body (so numbers such as 1e400 reach JSON.parse as sent). */
const rawPost = (t: TestApp, token: string, body: string) =>
  request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).set('Content-Type', 'application/json').send(body);

const both = async (token: string, body: string) => {
  const a = await rawPost(cached.t, token, body);
  const b = await rawPost(uncached, token, body);
  return { a, b };
};
const same = (a: request.Response, b: request.Response) => {
  expect({ status: a.status, code: a.body.code, data: a.body.data }).toEqual({ status: b.status, code: b.body.code, data: b.body.data });
};

describe('plan cache red team: values JSON cannot represent', () => {
  // A token claim of 1e400 is Infinity in the context, which JSON.stringify writes as null: the
  // context key was the one of a token with that claim null, whose plan (tenant_id IS NULL) the
  // cached app served where a fresh preparation refuses the non-finite claim (403).
  it('does not serve a null-claim context’s plan to a token whose claim is 1e400', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = (claim: string) => signToken(`{"sub":"red-inf","tenant_id":${claim},"exp":${exp}}`);
    const body = (v: string) => JSON.stringify({ query: { measures: ['p_orders.count'], filters: [{ member: 'p_orders.status', operator: 'equals', values: [v] }] } });
    for (const v of ['completed', 'pending', 'cancelled', 'completed']) {
      const { a, b } = await both(token('null'), body(v));
      same(a, b);
      expect(a.body.data).toEqual([{ 'p_orders.count': '0' }]);
    }
    for (const v of ['completed', 'returned']) {
      const { a, b } = await both(token('1e400'), body(v));
      expect(b.status).toBe(403);
      same(a, b);
    }
  });

  // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: the shape (and the
  // exact-text key) of a query with 1e400 was the one of the same query with null, so the cached
  // app answered with the null query's plan (IS NULL) where validation refuses a non-finite number.
  it('refuses a filter value of 1e400 after the same query with null was cached', async () => {
    const token = tenantToken(1);
    const q = (v: string) => `{"query":{"measures":["p_orders.count"],"filters":[{"member":"p_orders.status","operator":"notEquals","values":[${v}]}]}}`;
    const qs = (v: string) => `{"query":{"measures":["p_orders.count"],"filters":[{"member":"p_orders.status","operator":"equals","values":["completed",${v}]}]}}`;
    for (const body of [q('null'), q('null'), q('null'), qs('null'), qs('null'), qs('null')]) {
      const { a, b } = await both(token, body);
      same(a, b);
      expect(a.status).toBe(200);
    }
    for (const body of [q('1e400'), q('-1e400'), qs('1e400')]) {
      const { a, b } = await both(token, body);
      expect(b.status).toBe(400);
      same(a, b);
    }
  });
});

// ---------------------------------------------------------------- white box: shapes the cache's own property does not generate

type Kind = 'int' | 'numText' | 'word' | 'boolWord' | 'dateText' | 'null' | 'ctx' | 'odd';
const KIND_VALUES: Record<Kind, fc.Arbitrary<string | number | null>> = {
  int: fc.oneof(fc.integer({ min: -3, max: 900 }), fc.constantFrom(-0, 1e21, 0.1, 1e-7, 2 ** 53 + 1, Infinity, -Infinity)),
  numText: fc.constantFrom('1', '2', ' 1', '1 ', '1e3', '-0', '+5', '.5', '5.', '1E2', '0001', '1e400', '١'),
  word: fc.oneof(fc.constantFrom('completed', 'pending', 'Berlin', '', ' ', 'ß', 'İ', 'é', 'e\u0301', '\u202e', 'x'.repeat(3000), "'; --", '$1', '\u0001'), fc.string({ maxLength: 4 })),
  boolWord: fc.constantFrom('true', 'false', 'TRUE', 'False', 't', 'yes'),
  dateText: fc.constantFrom('2024-01-05', '2024-01-05T10:00:00', '2024-13-45', '2024-01-05 x'),
  null: fc.constant(null),
  // Equal to context values (tenant 1 or 2, sub names).
  ctx: fc.constantFrom(1, 2, '1', '2', 'attacker-1'),
  odd: fc.constantFrom('tessera sentinel 0', 'tessera stand-in 0', '987654321.75', 987654321.5, '2999-12-31 sentinel 0', 'True'),
};
const kinds = fc.constantFrom<Kind>('int', 'numText', 'word', 'word', 'boolWord', 'dateText', 'null', 'ctx', 'odd');
const FILTER_MEMBERS = [
  'p_orders.status', 'p_orders.tenant_id', 'p_orders.user_id', 'p_orders.id', 'p_orders.notes', 'p_orders.count', 'p_orders.total_amount', 'p_orders.secret_amount',
  's_orders.status', 's_orders.tenant_id', 's_orders.count', 'ext_orders.max_amount', 'ext_orders.status',
  'v_orders.o_status', 'v_orders.o_tenant_id', 'v_orders.o_notes', 'v_orders.u_users_city', 'v_orders.o_count', 'v_orders.o_created_at',
  'v_users.city', 'v_users.tenant_id', 'v_users.count', 'u_users.city', 'u_users.order_total', 'u_users.order_count', 'u_items.quantity',
] as const;
const OPS = ['equals', 'notEquals', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'contains', 'startsWith', 'notEndsWith', 'set'] as const;
type Skel = { leaf: { member: string; operator: string; kinds: Kind[]; key: 'member' | 'dimension'; noValues: boolean } } | { group: 'and' | 'or'; children: Skel[] };
/** Leaves that suit their member (most queries valid, so the re-bind path runs), and some random ones. */
const TYPED = [
  { members: ['p_orders.status', 's_orders.status', 'ext_orders.status', 'v_orders.o_status', 'v_orders.u_users_city', 'v_users.city', 'u_users.city'], operators: ['equals', 'notEquals', 'in', 'notIn', 'contains', 'startsWith', 'notEndsWith', 'gt'], kinds: ['word', 'word', 'ctx', 'odd', 'numText', 'null', 'dateText', 'boolWord'] },
  { members: ['p_orders.tenant_id', 'p_orders.user_id', 'p_orders.id', 's_orders.tenant_id', 'v_orders.o_tenant_id', 'v_users.tenant_id', 'u_users.order_total', 'p_orders.count', 'p_orders.total_amount', 'v_orders.o_count', 'ext_orders.max_amount', 'u_items.quantity'], operators: ['equals', 'notEquals', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte'], kinds: ['int', 'numText', 'ctx', 'odd', 'null'] },
] as const;
const typedLeaf = fc.constantFrom(...TYPED).chain((t) =>
  fc.record({
    member: fc.constantFrom(...t.members),
    operator: fc.constantFrom(...t.operators),
    kinds: fc.array(fc.constantFrom<Kind>(...t.kinds), { minLength: 1, maxLength: 3 }),
    key: fc.constantFrom<'member' | 'dimension'>('member', 'member', 'dimension'),
    noValues: fc.constant(false),
  }),
);
const randomLeaf = fc.record({
  member: fc.constantFrom(...FILTER_MEMBERS),
  operator: fc.constantFrom(...OPS),
  kinds: fc.array(kinds, { minLength: 1, maxLength: 3 }),
  key: fc.constantFrom<'member' | 'dimension'>('member', 'dimension'),
  noValues: fc.integer({ min: 0, max: 15 }).map((n) => n === 0),
});
const leafSkel: fc.Arbitrary<Skel> = fc.oneof({ arbitrary: typedLeaf, weight: 8 }, { arbitrary: randomLeaf, weight: 1 }).map((leaf) => ({ leaf }));
const skel: fc.Arbitrary<Skel> = fc.letrec<{ node: Skel }>((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leafSkel, fc.record({ group: fc.constantFrom<'and' | 'or'>('and', 'or'), children: fc.array(tie('node'), { minLength: 0, maxLength: 3 }) })),
})).node;
const SELECT = [
  { measures: ['p_orders.count'], dimensions: ['p_orders.status'] },
  { measures: ['s_orders.count', 's_orders.total_amount'], dimensions: ['s_orders.status'], segments: ['s_orders.big'] },
  { measures: ['v_orders.o_count'], dimensions: ['v_orders.u_users_city'], segments: ['v_orders.o_has_notes'] },
  { measures: ['v_users.count'], dimensions: ['v_users.city'] },
  { measures: ['u_items.quantity'], dimensions: ['u_users.city'] },
  { dimensions: ['u_users.city', 'u_users.order_total'] },
  { measures: ['ext_orders.max_amount'], dimensions: ['ext_orders.status'] },
  { dimensions: ['p_orders.id', 'p_orders.status'], ungrouped: true },
] as const;
const querySkel = fc.record({
  select: fc.constantFrom(...SELECT),
  filters: fc.array(skel, { minLength: 1, maxLength: 2 }),
  extra: fc.record(
    {
      limit: fc.constantFrom(0, 1, 7, 10000),
      offset: fc.constantFrom(0, 3),
      timezone: fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata'),
      total: fc.boolean(),
      responseFormat: fc.constantFrom('compact', 'columnar'),
      order: fc.constant('first' as const),
      timeDimensions: fc.constant('month' as const),
    },
    { requiredKeys: [] },
  ),
  blend: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
});
type QuerySkel = typeof querySkel extends fc.Arbitrary<infer T> ? T : never;
const kindsOf = (nodes: readonly Skel[], out: Kind[] = []): Kind[] => {
  for (const n of nodes) 'leaf' in n ? out.push(...n.leaf.kinds) : kindsOf(n.children, out);
  return out;
};
function build(s: QuerySkel, values: readonly unknown[]): unknown {
  let i = 0;
  const filter = (n: Skel): unknown => {
    if (!('leaf' in n)) return { [n.group]: n.children.map(filter) };
    const vals = n.leaf.kinds.map(() => values[i++]);
    return n.leaf.noValues ? { [n.leaf.key]: n.leaf.member, operator: n.leaf.operator } : { [n.leaf.key]: n.leaf.member, operator: n.leaf.operator, values: vals };
  };
  const sel = s.select as { measures?: readonly string[]; dimensions: readonly string[]; segments?: readonly string[]; ungrouped?: boolean };
  const q: Record<string, unknown> = { ...sel, filters: s.filters.map(filter) };
  const { order, timeDimensions, ...rest } = s.extra;
  Object.assign(q, rest);
  if (order) q.order = [[sel.dimensions[0], 'desc']];
  if (timeDimensions && !s.blend) q.timeDimensions = [{ dimension: 'p_orders.created_at', granularity: 'month' }];
  if (!s.blend) return q;
  const grouped = { dimension: 'p_orders.created_at', granularity: 'month' };
  return [{ ...q, timeDimensions: [grouped] }, { measures: ['p_orders.count'], timeDimensions: [grouped] }];
}
const CONTEXTS = [{ sub: 'a', tenant_id: 1 }, { sub: 'a', tenant_id: '1' }, { sub: 'b', tenant_id: 2 }, { sub: 'c', tenant_id: [1, 2] }, { sub: 'd' }] as const;
const authOf = (i: number): AuthResult => {
  const ctx = CONTEXTS[i] as unknown as Record<string, unknown>;
  return { via: 'jwt', rawContext: ctx, securityContext: ctx, scopes: ['query', 'meta'] };
};

describe('plan cache red team: white box over policies, views, segments, order, limits, zones', () => {
  it('hands back what a fresh preparation gives, for every value of a shape', async () => {
    const t = cached.t;
    const policies = createQueryPolicies(t.config, t.deps.model);
    const deps: PipelineDeps = { config: t.config, model: t.deps.model, db: t.deps.db, policies };
    const cache = createPlanCache<PreparedRequest>({ maxEntries: 500, enabled: true, model: deps.model });
    await fc.assert(
      fc.asyncProperty(
        querySkel.chain((s) => {
          const ks = kindsOf(s.filters);
          const instance = ks.length > 0 ? fc.tuple(...ks.map((k) => KIND_VALUES[k])) : fc.constant([]);
          return fc.record({ s: fc.constant(s), requests: fc.array(fc.tuple(instance, fc.constantFrom(0, 0, 0, 1, 2, 3, 4)), { minLength: 4, maxLength: 9 }) });
        }),
        async ({ s, requests }) => {
          for (const [values, ctx] of requests) {
            const auth = authOf(ctx);
            const query = build(s, values);
            const fresh = await outcome(() => prepareRequest(structuredClone(query), deps, auth));
            const got = await outcome(() => cache.prepare(structuredClone(query), auth, (q) => prepareRequest(q, deps, auth)));
            expect(got).toStrictEqual(fresh);
            if (!got.ok || !fresh.ok) continue;
            for (const [i, p] of got.prepared.queries.entries()) {
              const f = fresh.prepared.queries[i]!;
              const total = (q: typeof p) => compileQuery(deps.model, q.cubeQuery, q.plan, auth.securityContext, { forTotal: true });
              expect(total(p)).toStrictEqual(total(f));
            }
          }
        },
      ),
      { numRuns: Number(process.env.TESSERA_PROPERTY_RUNS ?? 200) },
    );
    // The property is about re-binding: it must have been exercised.
    expect(cache.stats().rebinds).toBeGreaterThan(10);
  }, 120_000);
});

describe('plan cache red team: tenants, policies and views over HTTP, against psql', () => {
  // Values equal to the caller's or another tenant's id, through the policed cube and its view,
  // interleaving tenants so each shape is re-bound across values and contexts.
  it('answers every re-bound value with the caller’s own rows only', async () => {
    const shapes = [
      (v: unknown[]) => ({ measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'in', values: v }] }),
      (v: unknown[]) => ({ measures: ['v_orders.o_count'], filters: [{ or: [{ member: 'v_orders.o_tenant_id', operator: 'equals', values: v }, { member: 'v_orders.o_status', operator: 'equals', values: ['no such status'] }] }] }),
      (v: unknown[]) => ({ measures: ['s_orders.count'], filters: [{ dimension: 's_orders.tenant_id', operator: 'in', values: v }] }),
    ];
    const truths = [
      'SELECT count(*) FROM tessera_demo.orders WHERE tenant_id = $1 AND tenant_id::text = ANY($2)',
      'SELECT count(*) FROM tessera_demo.orders WHERE tenant_id = $1 AND tenant_id::text = ANY($2)',
      'SELECT count(*) FROM tessera_demo.orders WHERE tenant_id = $1 AND tenant_id::text = ANY($2)',
    ];
    const valueSets: unknown[][] = [[1], [2], ['1'], [2, 1], ['2', '2'], [' 1'], ['1e0'], [1, 1], [3], ['-0'], [0]];
    for (const [k, shape] of shapes.entries()) {
      for (const v of valueSets) {
        for (const tenant of [1, 2]) {
          const res = await rawPost(cached.t, tenantToken(tenant), JSON.stringify({ query: shape(v) }));
          const off = await rawPost(uncached, tenantToken(tenant), JSON.stringify({ query: shape(v) }));
          same(res, off);
          // PostgreSQL refuses '1e0' for an integer column: a 400 alike from both apps.
          if (v.includes('1e0')) continue;
          expect(res.status, res.text).toBe(200);
          const asText = v.map((x) => String(Number(String(x).trim())));
          const n = await truth(cached, truths[k]!, [tenant, asText]);
          expect(Object.values(res.body.data[0] ?? {})).toEqual([n]);
        }
      }
    }
  });
});

// ---------------------------------------------------------------- the batching limiter (src/operator/batch-limiter-writes.ts)

describe('limiter red team: random interleavings of three processes on real PostgreSQL counters', () => {
  const schema = uniqueSchema('red_lim');
  let check: Knex;
  const pools: Knex[] = [];
  let run = 0;
  beforeAll(async () => {
    check = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 2 } });
    await migrateOperatorSchema(check, { schema });
    for (let i = 0; i < 3; i++) pools.push(knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 2 } }));
  });
  afterAll(async () => {
    await check?.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await Promise.all([check?.destroy(), ...pools.map((p) => p.destroy())]);
  });

  // A flush with nothing to send finished synchronously: its `finally` cleared `flushing` before
  // `flushing ??=` stored the settled promise, so every later flush (the timer's and close's) returned
  // it and sent nothing. After the first idle tick, local grants were never written (lost), and
  // the store heard of a key only when one of its own requests went there.
  it('still sends local grants after a flush that had nothing to send', async () => {
    const spec = { name: `idle${(run += 1)}`, points: 600, durationSec: 600 };
    const p = batchLimiterWrites(createCounterStoreFactory({ knex: pools[0]!, schema })(spec), { flushMs: 3_600_000, clock: () => 1_000_000 });
    try {
      await p.flush(); // nothing pending
      await p.consume('once'); // a key this process has no answer for: one local grant
      await p.flush();
      const row = await check.withSchema(schema).table('rate_limits').where('key', `${spec.name}:once`).first<{ points: number } | undefined>();
      expect(row?.points ?? 0).toBe(1);
    } finally {
      await p.close();
    }
  });

  // 100 points: headroom 20, lease 2; three processes may pass the limit by at most 3 × 2, and
  // another subject's counter is never touched by this one's traffic.
  it('never grants a subject more than its limit plus P × lease, whatever the order of requests, flushes and clock steps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { arbitrary: fc.record({ consume: fc.integer({ min: 0, max: 2 }), key: fc.constantFrom('k', 'k', 'k', 'other') }), weight: 10 },
            { arbitrary: fc.record({ flush: fc.integer({ min: 0, max: 2 }) }), weight: 2 },
            { arbitrary: fc.record({ tick: fc.integer({ min: 0, max: 700 }) }), weight: 2 },
            { arbitrary: fc.record({ exact: fc.integer({ min: 1, max: 30 }) }), weight: 1 },
          ),
          { minLength: 20, maxLength: 260 },
        ),
        async (steps) => {
          const spec = { name: `red${(run += 1)}`, points: 100, durationSec: 600 };
          let now = 1_000_000;
          const procs = pools.map((p) => batchLimiterWrites(createCounterStoreFactory({ knex: p, schema })(spec), { flushMs: 3_600_000, clock: () => now }));
          const plain = createLimiterFactory({ knex: check, schema })(spec);
          const granted = new Map<string, number>();
          let exactTaken = 0;
          try {
            for (const s of steps) {
              if ('consume' in s) {
                try {
                  await procs[s.consume]!.consume(s.key);
                  granted.set(s.key, (granted.get(s.key) ?? 0) + 1);
                } catch (e) {
                  if (!(e instanceof RateLimiterRes)) throw e;
                }
              } else if ('flush' in s) await procs[s.flush]!.flush();
              else if ('tick' in s) now += s.tick;
              else {
                try {
                  await plain.consume('k', s.exact);
                  exactTaken += s.exact;
                } catch (e) {
                  if (!(e instanceof RateLimiterRes)) throw e;
                }
              }
            }
            await Promise.all(procs.map((p) => p.flush()));
          } finally {
            await Promise.all(procs.map((p) => p.close()));
          }
          expect((granted.get('k') ?? 0) + exactTaken).toBeLessThanOrEqual(100 + 3 * 2);
          expect(granted.get('other') ?? 0).toBeLessThanOrEqual(100 + 3 * 2);
          // Every grant reached the store.
          const row = await check.withSchema(schema).table('rate_limits').where('key', `${spec.name}:other`).first<{ points: number } | undefined>();
          expect(row?.points ?? 0).toBeGreaterThanOrEqual(granted.get('other') ?? 0);
        },
      ),
      { numRuns: Number(process.env.TESSERA_PROPERTY_RUNS ?? 40) > 100 ? 100 : 40 },
    );
  }, 120_000);
});
