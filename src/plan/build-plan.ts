/**
 * The plan stage: which cubes a query touches (its members' cubes, then the cubes their SQL
 * references, as Cube's join hints), and the join tree that connects them.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Member, Model, SecurityContext } from '../schema/model.js';
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

/**
 * The cubes each member's SQL references, found once per member (the model is immutable): the
 * member is rendered with a recording context. The renderer checks every query against this, so
 * SQL whose references change with the security context fails closed instead of joining wrongly.
 */
const memberReferences = new WeakMap<Member, CubeReferences>();

function referencesOf(model: Model, q: ValidatedQuery, context: SecurityContext, member: Member): CubeReferences {
  const known = memberReferences.get(member);
  if (known) return known;
  const r = new Renderer(model, q, context);
  const [, cubes] = r.recordCubes(() => {
    if (member.kind === 'segment') r.renderOwn(member.cube, member.sql);
    else r.memberSql(member.cube, member.name, 'aggregate');
  });
  const refs = Object.freeze({ joined: Object.freeze([...cubes]), subQuery: Object.freeze([...r.subQueryCubes]) });
  memberReferences.set(member, refs);
  return refs;
}

/** The cubes the SQL of every member the query uses references. */
export function referencedCubes(model: Model, q: ValidatedQuery, context: SecurityContext = {}): CubeReferences {
  const members = [...q.measures, ...q.dimensions, ...q.timeDimensions.map((t) => t.dimension), ...q.segments];
  filterMembers(q.filters, members);
  const joined = new Set<string>();
  const subQuery = new Set<string>();
  for (const name of new Set(members)) {
    const cube = model.cubes.get(cubeOf(name));
    const short = nameOf(name);
    const member = cube?.measures.get(short) ?? cube?.dimensions.get(short) ?? cube?.segments.get(short);
    if (!member) throw new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown member: ${name}`);
    const refs = referencesOf(model, q, context, member);
    refs.joined.forEach((c) => joined.add(c));
    refs.subQuery.forEach((c) => subQuery.add(c));
  }
  return { joined: [...joined], subQuery: [...subQuery] };
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
