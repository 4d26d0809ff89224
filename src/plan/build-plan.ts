/**
 * The plan stage: which cubes a query touches (its members' cubes, then the cubes their SQL
 * references, as Cube's join hints), and the join tree that connects them.
 */
import type { Model, SecurityContext } from '../schema/model.js';
import { cubeOf, nameOf, type FilterNode, type ValidatedQuery } from '../query/validated-query.js';
import { planForCubes, type Plan, type PlanOptions } from './join-tree.js';
import { Renderer } from '../render/member-renderer.js';

export type { Plan, PlanOptions } from './join-tree.js';
export { planForCubes } from './join-tree.js';

function filterCubes(nodes: readonly FilterNode[], out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'leaf') out.push(cubeOf(n.member));
    else filterCubes(n.filters, out);
  }
}

/** Cubes in the order Cube uses to break ties: measures, dimensions, time dimensions, segments, filters. */
export function queryCubes(q: ValidatedQuery): string[] {
  const all: string[] = [
    ...q.measures.map(cubeOf),
    ...q.dimensions.map(cubeOf),
    ...q.timeDimensions.map((t) => cubeOf(t.dimension)),
    ...q.segments.map(cubeOf),
  ];
  filterCubes(q.filters, all);
  return [...new Set(all)];
}

function filterMembers(nodes: readonly FilterNode[], out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'leaf') out.push(n.member);
    else filterMembers(n.filters, out);
  }
}

export interface CubeReferences {
  /** Cubes the members' SQL names (`${Users.city}` inside an Orders member): they join the query. */
  readonly joined: readonly string[];
  /** Cubes read inside subQuery dimensions' own selects. */
  readonly subQuery: readonly string[];
}

/** Renders every member the query uses once, recording which cubes their SQL references. */
export function referencedCubes(model: Model, q: ValidatedQuery, context: SecurityContext = {}): CubeReferences {
  const r = new Renderer(model, q, context);
  const members = [...q.measures, ...q.dimensions, ...q.timeDimensions.map((t) => t.dimension)];
  filterMembers(q.filters, members);
  const [, cubes] = r.recordCubes(() => {
    for (const m of new Set(members)) r.memberSql(cubeOf(m), nameOf(m), 'aggregate');
    for (const s of q.segments) {
      const seg = r.cube(cubeOf(s)).segments.get(nameOf(s));
      if (seg) r.renderOwn(seg.cube, seg.sql);
    }
  });
  return { joined: [...cubes], subQuery: [...r.subQueryCubes] };
}

export interface BuildPlanOptions extends PlanOptions {
  /** The SQL-level security context, for rendering member SQL while references are discovered. */
  readonly context?: SecurityContext | undefined;
}

/** Plans the join tree of a query, including the cubes its members' SQL references. */
export function buildPlan(model: Model, q: ValidatedQuery, opts: BuildPlanOptions = {}): Plan {
  const refs = referencedCubes(model, q, opts.context);
  const plan = planForCubes(model, [...new Set([...queryCubes(q), ...refs.joined])], opts);
  if (refs.subQuery.length === 0) return plan;
  return Object.freeze({ ...plan, read: Object.freeze([...new Set([...plan.read, ...refs.subQuery])]) });
}
