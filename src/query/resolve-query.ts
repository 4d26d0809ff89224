/**
 * The resolve stage: a validated query (as the caller wrote it) becomes a ResolvedQuery — plain
 * frozen data naming the cube members, the join tree (with the cubes member SQL references), every
 * cube whose rows are read, and the security filters the policy stage attached to each cube.
 */
import type { AuthResult } from '../auth/auth-result.js';
import type { Model } from '../schema/model.js';
import { buildPlan } from '../plan/build-plan.js';
import type { Plan } from '../plan/join-tree.js';
import { resolveViews } from './resolve-views.js';
import { cubeOf, type ReadSet, type ValidatedQuery } from './validated-query.js';

export interface ResolvedQuery {
  /** The query over cube members, with the policy stage's filters and per-cube securityFilters. */
  readonly query: ValidatedQuery;
  /** Cube-level output key → the key the caller asked for (view member keys). */
  readonly outputKeys: ReadonlyMap<string, string>;
  /** The join tree: root, joins, the cubes it multiplies. */
  readonly joinTree: Plan;
  /** Every cube and view whose rows the query reads, as handed to the policy stage. */
  readonly read: ReadSet;
}

/** The policy stage's entry point (access policies): member checks, row filters, securityFilters. */
export type Restrict = (query: ValidatedQuery, auth: AuthResult, read: ReadSet) => Promise<ValidatedQuery>;

/** The views a query names, in first-use order. */
export function viewsNamed(q: ValidatedQuery, model: Model): string[] {
  const names: string[] = [...q.measures, ...q.dimensions, ...q.segments, ...q.timeDimensions.map((t) => t.dimension)];
  const walk = (nodes: ValidatedQuery['filters']): void => nodes.forEach((n) => (n.kind === 'leaf' ? names.push(n.member) : walk(n.filters)));
  walk(q.filters);
  return [...new Set(names.map(cubeOf).filter((c) => model.cubes.get(c)?.kind === 'view'))];
}

/** Views → cubes, join tree, ReadSet, then the policy stage; the tree is planned again if policy filters name more cubes. */
export async function resolveQuery(query: ValidatedQuery, model: Model, auth: AuthResult, restrict?: Restrict): Promise<ResolvedQuery> {
  const resolved = resolveViews(query, model);
  const planOpts = { root: resolved.root, context: auth.securityContext };
  let cubeQuery = resolved.query;
  let joinTree = buildPlan(model, cubeQuery, planOpts);
  const read: ReadSet = Object.freeze({ cubes: joinTree.read, views: Object.freeze(viewsNamed(query, model)) });
  if (restrict) {
    const restricted = await restrict(cubeQuery, auth, read);
    if (restricted !== cubeQuery) joinTree = buildPlan(model, restricted, planOpts);
    cubeQuery = restricted;
  }
  return Object.freeze({ query: cubeQuery, outputKeys: resolved.outputKeys, joinTree, read });
}
