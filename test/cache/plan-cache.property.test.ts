/**
 * The shape-keyed plan cache is invisible (fast-check): for random queries over the demo model,
 * with random operators, values and contexts, what the cache hands back deep-equals what
 * prepareRequest prepares from scratch (SQL, params, columns, plans, the echoed query, pivotQuery,
 * the `total` statement), and a value a fresh prepare refuses is refused with the same error.
 * Requests repeat each generated shape with new values, so the re-bind path is what is tested;
 * a row-filter policy binds context values that often equal filter values, and each new context
 * is prepared afresh, never served another context's template.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/auth/auth-result.js';
import { createPlanCache } from '../../src/cache/plan-cache.js';
import type { FilterNode, ValidatedQuery } from '../../src/query/validated-query.js';
import { compileQuery } from '../../src/render/compile-query.js';
import { prepareRequest, type PipelineDeps, type PreparedRequest } from '../../src/server/query-pipeline.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { outcome } from './support/prepare-outcome.js';

const RUNS = Number(process.env.TESSERA_PROPERTY_RUNS ?? 150);

// ---------------------------------------------------------------- contexts and a row-filter policy

const contexts = [
  { sub: 'user-42', u: { id: 42 }, tenant_id: 2 },
  { sub: 'user-7', u: { id: 7 }, tenant_id: 2 },
  { sub: 'user-42', u: { id: 42 }, tenant_id: '2' },
  { sub: 'user-12', u: { id: 12 }, tenant_id: 2, region: 'completed' },
] as const;
const authOf = (i: number): AuthResult => {
  const ctx = contexts[i] as unknown as Record<string, unknown>;
  return { via: 'jwt', rawContext: ctx, securityContext: ctx, scopes: ['query', 'meta'] };
};

/** Row filters from context values, on every Orders read and ANDed into the query, as access policies do. */
function policyDeps(app: TestApp): PipelineDeps {
  return {
    config: app.config,
    model: app.deps.model,
    db: app.deps.db,
    policies: {
      restrict: async (query: ValidatedQuery, auth: AuthResult, read) => {
        if (!read?.cubes.includes('Orders')) return query;
        const ctx = auth.securityContext as { u: { id: number }; region?: string };
        const rows: FilterNode[] = [{ kind: 'leaf', member: 'Orders.userId', operator: 'equals', values: [String(ctx.u.id)] }];
        if (ctx.region) rows.push({ kind: 'leaf', member: 'Orders.status', operator: 'notEquals', values: [ctx.region] });
        return Object.freeze({ ...query, filters: [...query.filters, ...rows], securityFilters: { Orders: rows } });
      },
    },
  };
}

// ---------------------------------------------------------------- query skeletons

const FILTER_MEMBERS = [
  'Orders.status', 'Orders.notes', 'Orders.sizeBucket', 'Users.city', 'Products.category', 'OrdersOverview.status',
  'Orders.amount', 'Orders.quantity', 'Orders.userId', 'Orders.isShipped', 'Orders.createdAt',
  'Orders.count', 'Orders.totalAmount',
] as const;
const OPERATORS = ['equals', 'notEquals', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'contains', 'notContains', 'startsWith', 'endsWith', 'set', 'notSet'] as const;

/** What each value slot holds; every instantiation draws a fresh value of the same kind. */
type Kind = 'int' | 'numText' | 'word' | 'boolWord' | 'dateText' | 'wild' | 'null' | 'bool' | 'ctxNum' | 'ctxWord';
const KIND_VALUES: Record<Kind, fc.Arbitrary<string | number | boolean | null>> = {
  int: fc.integer({ min: -5, max: 400 }),
  numText: fc.oneof(fc.integer({ min: -5, max: 400 }).map(String), fc.constantFrom('1.5', ' 7 ', '1e2', '0', '1')),
  word: fc.oneof(fc.constantFrom('completed', 'pending', 'cancelled', 'Berlin', 'books', 'small', "' OR 1=1 --", ''), fc.string({ maxLength: 6 })),
  boolWord: fc.constantFrom('true', 'false', 'TRUE', 'False'),
  dateText: fc.constantFrom('2024-01-05', '2024-03-01T10:00:00.000', '2024-01-05T00:00:00.000Z', '2023-12-31'),
  wild: fc.oneof(fc.constantFrom('a%b', 'x_y', 'back\\slash', '%', '_'), fc.constantFrom('ab', 'xy', 'plain')),
  null: fc.constant(null),
  bool: fc.boolean(),
  // Equal to a context value the policy or the model binds (user id 42, tenant 2, status 'completed').
  ctxNum: fc.constantFrom('42', '2', '7', '12'),
  ctxWord: fc.constantFrom('completed', 'user-42'),
};
/** Kinds the shape holds verbatim. */
const PINNED = new Set<Kind>(['null', 'bool']);
const kind = fc.constantFrom<Kind>('int', 'int', 'numText', 'numText', 'word', 'word', 'boolWord', 'dateText', 'wild', 'null', 'bool', 'ctxNum', 'ctxWord');

type Skeleton = { leaf: { member: string; operator: string; kinds: Kind[]; key: 'member' | 'dimension' } } | { group: 'and' | 'or'; children: Skeleton[] };

/** Most leaves suit their member (so most queries are valid); some are random, for the refusals. */
const TYPED: readonly { members: readonly string[]; operators: readonly string[]; kinds: readonly Kind[] }[] = [
  {
    members: ['Orders.status', 'Orders.notes', 'Orders.sizeBucket', 'Users.city', 'Products.category', 'OrdersOverview.status'],
    operators: ['equals', 'notEquals', 'in', 'notIn', 'contains', 'notContains', 'startsWith', 'endsWith', 'set'],
    kinds: ['word', 'word', 'word', 'wild', 'null', 'ctxWord', 'numText'],
  },
  { members: ['Orders.amount', 'Orders.quantity', 'Orders.userId'], operators: ['equals', 'notEquals', 'in', 'gt', 'gte', 'lt', 'lte'], kinds: ['int', 'numText', 'ctxNum', 'null'] },
  { members: ['Orders.isShipped'], operators: ['equals', 'notEquals'], kinds: ['boolWord', 'bool'] },
  { members: ['Orders.createdAt'], operators: ['gt', 'lt', 'equals'], kinds: ['dateText'] },
  { members: ['Orders.count', 'Orders.totalAmount'], operators: ['equals', 'gt', 'lt', 'gte'], kinds: ['int', 'numText'] },
];
const typedLeaf = fc.constantFrom(...TYPED).chain((t) =>
  fc.record({
    member: fc.constantFrom(...t.members),
    operator: fc.constantFrom(...t.operators),
    kinds: fc.array(fc.constantFrom(...t.kinds), { minLength: 1, maxLength: 3 }),
    key: fc.constantFrom<'member' | 'dimension'>('member', 'member', 'dimension'),
  }),
);
const randomLeaf = fc.record({
  member: fc.constantFrom(...FILTER_MEMBERS),
  operator: fc.constantFrom(...OPERATORS),
  kinds: fc.array(kind, { minLength: 1, maxLength: 3 }),
  key: fc.constantFrom<'member' | 'dimension'>('member', 'member', 'dimension'),
});
const leafSkeleton: fc.Arbitrary<Skeleton> = fc.oneof({ arbitrary: typedLeaf, weight: 6 }, { arbitrary: randomLeaf, weight: 1 }).map((leaf) => ({ leaf }));
const skeleton: fc.Arbitrary<Skeleton> = fc.letrec<{ node: Skeleton }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafSkeleton,
    fc.record({ group: fc.constantFrom<'and' | 'or'>('and', 'or'), children: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
  ),
})).node;

const querySkeleton = fc.record({
  measures: fc.subarray(['Orders.count', 'Orders.totalAmount', 'Users.count'], { minLength: 1 }),
  dimensions: fc.subarray(['Orders.status', 'Users.city', 'Orders.sizeBucket']),
  filters: fc.array(skeleton, { minLength: 1, maxLength: 3 }),
  total: fc.boolean(),
  blend: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
});

type QuerySkeleton = typeof querySkeleton extends fc.Arbitrary<infer T> ? T : never;

/** The value kinds of a skeleton, in slot order. */
function slotsOf(nodes: readonly Skeleton[], out: Kind[] = []): Kind[] {
  for (const n of nodes) 'leaf' in n ? out.push(...n.leaf.kinds) : slotsOf(n.children, out);
  return out;
}

function build(s: QuerySkeleton, values: readonly unknown[]): unknown {
  let i = 0;
  const filter = (n: Skeleton): unknown =>
    'leaf' in n
      ? { [n.leaf.key]: n.leaf.member, operator: n.leaf.operator, values: n.leaf.kinds.map(() => values[i++]) }
      : { [n.group]: n.children.map(filter) };
  const q: Record<string, unknown> = { measures: s.measures, filters: s.filters.map(filter) };
  if (s.dimensions.length > 0) q.dimensions = s.dimensions;
  if (s.total) q.total = true;
  if (!s.blend) return q;
  const grouped = { dimension: 'Orders.createdAt', granularity: 'month' };
  return [{ ...q, timeDimensions: [grouped] }, { measures: ['Orders.count'], timeDimensions: [grouped] }];
}

// ---------------------------------------------------------------- the property


let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => app?.close());

describe('the shape-keyed plan cache', () => {
  it('hands back exactly what preparing from scratch gives, for every value of a shape and every context', async () => {
    const deps = policyDeps(app);
    const cache = createPlanCache<PreparedRequest>({ maxEntries: 500, enabled: true, model: deps.model });
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(
        querySkeleton.chain((s) => {
          const kinds = slotsOf(s.filters);
          const instance = kinds.length > 0 ? fc.tuple(...kinds.map((k) => KIND_VALUES[k])) : fc.constant([]);
          // Values kept verbatim in the shape (null, booleans, LIKE wildcards) mostly stay put, so the shape repeats.
          const pinned = (fixed: readonly unknown[], drawn: readonly unknown[], keep: boolean) => drawn.map((v, i) => (keep && PINNED.has(kinds[i]!) ? fixed[i] : v));
          const request = fc.tuple(instance, fc.integer({ min: 0, max: 4 }).map((n) => n === 0), fc.constantFrom(0, 0, 0, 1, 2, 3));
          return fc.record({ s: fc.constant(s), fixed: instance, requests: fc.array(request, { minLength: 4, maxLength: 10 }) }).map(({ s, fixed, requests }) => ({
            s,
            requests: requests.map(([drawn, moved, ctx]) => [pinned(fixed, drawn, !moved), ctx] as const),
          }));
        }),
        async ({ s, requests }) => {
          for (const [values, ctx] of requests) {
            const auth = authOf(ctx);
            const query = build(s, values);
            const fresh = await outcome(() => prepareRequest(structuredClone(query), deps, auth));
            const cached = await outcome(() => cache.prepare(query, auth, (q) => prepareRequest(q, deps, auth)));
            expect(cached).toStrictEqual(fresh);
            if (!cached.ok || !fresh.ok) continue;
            compared += 1;
            // executeRequest compiles `total` from cubeQuery and plan: that statement is the fresh one too.
            for (const [i, p] of cached.prepared.queries.entries()) {
              const f = fresh.prepared.queries[i]!;
              const total = (q: typeof p) => compileQuery(deps.model, q.cubeQuery, q.plan, auth.securityContext, { forTotal: true });
              expect(total(p)).toStrictEqual(total(f));
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
    const stats = cache.stats();
    // The property is about re-binding: many compared requests must have taken that path.
    expect(stats.rebinds).toBeGreaterThan(compared / 12);
    expect(stats.fixedShapes).toBeGreaterThan(0);
  });

  it('prepares a new context afresh instead of re-binding another context’s plan', async () => {
    const deps = policyDeps(app);
    const cache = createPlanCache<PreparedRequest>({ maxEntries: 50, enabled: true, model: deps.model });
    const query = (v: string) => ({ measures: ['Orders.count'], filters: [{ member: 'Orders.amount', operator: 'gt', values: [v] }] });
    const run = (auth: AuthResult) => (q: unknown) => prepareRequest(q, deps, auth);
    const a = await cache.prepare(query('10'), authOf(0), run(authOf(0)));
    const a1 = await cache.prepare(query('15'), authOf(0), run(authOf(0)));
    const a2 = await cache.prepare(query('20'), authOf(0), run(authOf(0)));
    expect(cache.stats()).toMatchObject({ seenOnce: 1, firstSights: 1, rebinds: 1 });
    const b = await cache.prepare(query('20'), authOf(1), run(authOf(1)));
    expect(cache.stats()).toMatchObject({ seenOnce: 2, firstSights: 1, rebinds: 1 });
    expect(b).toStrictEqual(await prepareRequest(query('20'), deps, authOf(1)));
    expect(b.queries[0]!.compiled.params).not.toStrictEqual(a2.queries[0]!.compiled.params);
    // Nothing of A's preparation is inside B's: no query, plan, statement or parameter list.
    const objects = (p: PreparedRequest) => p.queries.flatMap((q) => [q, q.query, q.cubeQuery, q.plan, q.compiled, q.compiled.params, q.compiled.plan, q.query.filters]);
    const ofA = new Set([...objects(a), ...objects(a1), ...objects(a2)]);
    expect(objects(b).filter((o) => ofA.has(o))).toEqual([]);
  });
});
