/**
 * Cube's data access policies on a validated query: member-level checks and
 * row-level filters. Where Cube silently returns an empty result, this throws a
 * 403 that names the member.
 */
import type { AuthResult } from '../auth/auth-result.js';
import { isPlainObject } from '../auth/auth-errors.js';
import { EngineError } from '../errors/engine-error.js';
import {
  DATE_OPERATORS,
  FILTER_OPERATORS,
  type FilterNode,
  type FilterOperator,
  type FilterValue,
  type ReadSet,
  type ValidatedQuery,
} from '../query/validated-query.js';
import type { AccessPolicy, Cube, Model, SecurityContext } from '../schema/model.js';
import { applicablePolicies, policyGrants, splitMember } from './applicable-policies.js';
import { withClaimReads } from './claim-reads.js';

/** A member no policy grants is refused exactly like an unknown one, so no answer reveals that it exists. */
const notGranted = (member: string) => new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown member: ${member}`);

const noPolicyApplies = (cube: string) =>
  new EngineError('ERR_QUERY_FORBIDDEN_MEMBER', `Access denied: no access policy of ${cube} applies to this security context`);

export interface AccessPolicyOptions {
  /** Every cube and view the planned query reads; without it they are derived from the query's members. */
  readonly read?: ReadSet | undefined;
  /** `matchAll` restores Cube's fail-open reading of missing claims (config `missingClaims`). */
  readonly missingClaims?: 'refuse' | 'matchAll' | undefined;
}

/** The cubes and views a query reads: `read` when the planner gave it, always with those its members name. */
export function readSources(query: ValidatedQuery, model: Model, read: ReadSet | undefined): ReadSet {
  const named = namedSources(query, model);
  return Object.freeze({
    cubes: Object.freeze([...new Set([...named.cubes.keys(), ...(read?.cubes ?? [])])]),
    views: Object.freeze([...new Set([...named.views.keys(), ...(read?.views ?? [])])]),
  });
}

/**
 * Member checks and row filters of every policed cube and view the query reads. Returns `query`
 * with `securityFilters` (per cube, for the compiler to apply wherever that cube's rows are read)
 * and the same constraints ANDed into `filters` for the cubes and views the query names; throws
 * `Unknown member` (400) for a member no applicable policy grants, and 403 when no policy of a
 * cube read only indirectly applies.
 *
 * Row filters: for each member, the OR of its granting policies' filters (a policy without
 * `rowLevel`, or with `allowAll`, lifts the restriction); ANDed over the members of a cube and
 * across cubes. A cube read only indirectly (join path, subQuery) gets the OR over all its
 * applicable policies. Run it after `queryRewrite`, so a rewrite can neither add an ungranted
 * member nor drop a row filter.
 */
export function applyAccessPolicies(
  query: ValidatedQuery,
  model: Model,
  auth: AuthResult,
  groups: readonly string[],
  options: AccessPolicyOptions = {},
): ValidatedQuery {
  const strict = options.missingClaims !== 'matchAll';
  const groupSet = new Set(groups);
  const named = namedSources(query, model);
  const { cubes, views } = readSources(query, model, options.read);

  const perCube = new Map<string, FilterNode[]>();
  const outer: FilterNode[] = [];
  const add = (cube: string, nodes: readonly FilterNode[]) => {
    if (nodes.length === 0) return;
    const list = perCube.get(cube) ?? [];
    list.push(...nodes);
    perCube.set(cube, list);
  };

  for (const name of cubes) {
    const cube = model.cubes.get(name);
    if (cube === undefined || !isPoliced(cube)) continue;
    const requirements = [...(named.cubes.get(name) ?? [])].map((m) => [m]);
    const nodes = cubeConstraints(cube, requirements, model, auth, groupSet, strict);
    add(name, nodes);
    if (named.cubes.has(name)) outer.push(...nodes);
  }

  for (const name of views) {
    const view = model.cubes.get(name);
    if (view === undefined || view.kind !== 'view' || !isPoliced(view)) continue;
    const requirements = viewRequirements(view, query, named.views.get(name));
    const nodes = cubeConstraints(view, requirements, model, auth, groupSet, strict).map((n) => onCubes(n, view));
    for (const node of nodes) {
      const owners = cubesOf(node);
      // A constraint over one cube also narrows that cube's own source; one spanning cubes can only filter the result.
      if (owners.size === 1) add([...owners][0] as string, [node]);
    }
    outer.push(...nodes);
  }

  if (perCube.size === 0 && outer.length === 0) return query;
  const securityFilters: Record<string, readonly FilterNode[]> = { ...(query.securityFilters ?? {}) };
  for (const [cube, nodes] of perCube) securityFilters[cube] = Object.freeze([...(securityFilters[cube] ?? []), ...nodes]);
  return Object.freeze({
    ...query,
    filters: outer.length === 0 ? query.filters : Object.freeze([...query.filters, group('and', outer)]),
    securityFilters: Object.freeze(securityFilters),
  });
}

const isPoliced = (cube: Cube): boolean => (cube.accessPolicy?.length ?? 0) > 0;

interface NamedSources {
  /** Cube → the short names of its members the query names (views resolved to their cubes). */
  readonly cubes: Map<string, Set<string>>;
  /** View → the short names of its members the query names directly. */
  readonly views: Map<string, Set<string>>;
}

/** The cubes and views the query's own members belong to; a view member also names its cube and join path. */
function namedSources(query: ValidatedQuery, model: Model): NamedSources {
  const cubes = new Map<string, Set<string>>();
  const views = new Map<string, Set<string>>();
  const note = (map: Map<string, Set<string>>, owner: string, member?: string) => {
    const set = map.get(owner) ?? new Set<string>();
    if (member !== undefined) set.add(member);
    map.set(owner, set);
  };
  for (const name of queriedMembers(query)) {
    const [owner, member] = splitMember(name);
    const source = model.cubes.get(owner);
    if (source?.kind !== 'view') {
      note(cubes, owner, member);
      continue;
    }
    note(views, owner, member);
    const target = source.viewMembers?.get(member);
    if (target === undefined) continue;
    note(cubes, target.cube, target.member);
    for (const step of target.joinPath) note(cubes, step);
  }
  return { cubes, views };
}

/**
 * What a view's member-level policy must grant: each view member the query names directly, and
 * each cube member of a resolved query that the view exposes (any of its aliases in the view).
 */
function viewRequirements(view: Cube, query: ValidatedQuery, direct: ReadonlySet<string> | undefined): string[][] {
  const requirements = [...(direct ?? [])].map((m) => [m]);
  const aliases = new Map<string, string[]>();
  for (const [alias, target] of view.viewMembers ?? []) {
    const key = `${target.cube}.${target.member}`;
    aliases.set(key, [...(aliases.get(key) ?? []), alias]);
  }
  for (const name of queriedMembers(query)) {
    const exposed = aliases.get(splitMember(name).join('.'));
    if (exposed !== undefined) requirements.push(exposed);
  }
  return requirements;
}

/**
 * The row constraints of one policed cube or view: per requirement (a member, or the aliases of
 * one), the OR of its granting policies' filters; with no requirement, the OR over every applicable policy.
 */
function cubeConstraints(
  cube: Cube,
  requirements: readonly (readonly string[])[],
  model: Model,
  auth: AuthResult,
  groups: ReadonlySet<string>,
  strict: boolean,
): FilterNode[] {
  const policies = applicablePolicies(cube, auth.rawContext, groups, strict);
  const sets: (readonly AccessPolicy[])[] = [];
  if (requirements.length === 0) {
    if (policies.length === 0) throw noPolicyApplies(cube.name);
    sets.push(policies);
  }
  for (const names of requirements) {
    const granting = policies.filter((p) => names.some((m) => policyGrants(p, cube.name, m)));
    if (granting.length === 0) throw notGranted(`${cube.name}.${names[0] ?? ''}`);
    sets.push(granting);
  }
  // Members granted by the same policies share one constraint; the key keeps the SQL free of repeats.
  const constraints = new Map<string, FilterNode>();
  for (const granting of sets) {
    if (granting.some(allowsAllRows)) continue;
    const key = granting.map((p) => policies.indexOf(p)).join(',');
    if (constraints.has(key)) continue;
    const nodes = granting.map((p) => policyRowFilter(p, cube, model, auth.rawContext, strict));
    constraints.set(key, nodes.length === 1 ? (nodes[0] as FilterNode) : group('or', nodes));
  }
  return [...constraints.values()];
}

/** A view's row filter names view members; the compiler filters the cube members behind them. */
function onCubes(node: FilterNode, view: Cube): FilterNode {
  if (node.kind !== 'leaf') return group(node.kind, node.filters.map((f) => onCubes(f, view)));
  const target = view.viewMembers?.get(splitMember(node.member)[1]);
  if (target === undefined) throw new EngineError('ERR_INTERNAL', `A row filter of view ${view.name} names ${node.member}, which it does not expose`);
  return Object.freeze({ ...node, member: `${target.cube}.${target.member}` });
}

function cubesOf(node: FilterNode, out = new Set<string>()): Set<string> {
  if (node.kind === 'leaf') out.add(splitMember(node.member)[0]);
  else node.filters.forEach((f) => cubesOf(f, out));
  return out;
}

/** Every member the query reads, filters or orders by, as `Cube.member`, in query order. */
export function queriedMembers(query: ValidatedQuery): readonly string[] {
  const out: string[] = [...query.measures, ...query.dimensions, ...query.segments];
  out.push(...query.timeDimensions.map((t) => t.dimension));
  const walk = (node: FilterNode): void => {
    if (node.kind === 'leaf') out.push(node.member);
    else node.filters.forEach(walk);
  };
  query.filters.forEach(walk);
  out.push(...query.order.map(([key]) => splitMember(key).join('.')));
  return [...new Set(out)];
}

function allowsAllRows(policy: AccessPolicy): boolean {
  return policy.rowLevel === undefined || 'allowAll' in policy.rowLevel;
}

function group(kind: 'and' | 'or', filters: readonly FilterNode[]): FilterNode {
  return Object.freeze({ kind, filters: Object.freeze([...filters]) });
}

/** Operators a row filter may use: the date ones need the query's timezone resolution, measureFilter is not a row condition. */
const ROW_OPERATORS: ReadonlySet<FilterOperator> = new Set(
  FILTER_OPERATORS.filter(
    (op) => op !== 'measureFilter' && !DATE_OPERATORS.includes(op),
  ),
);
const VALUELESS_OPERATORS: ReadonlySet<FilterOperator> = new Set(['set', 'notSet']);

/** One policy's `rowLevel.filters`, evaluated against the context, as one filter node (ANDed). */
function policyRowFilter(policy: AccessPolicy, cube: Cube, model: Model, context: SecurityContext, strict: boolean): FilterNode {
  const rowLevel = policy.rowLevel as { readonly filters: (c: SecurityContext) => readonly unknown[] };
  let raw: readonly unknown[];
  try {
    const reads = withClaimReads(context, rowLevel.filters);
    if (strict && reads.missing.length > 0) {
      throw new EngineError(
        'ERR_AUTH_CLAIMS_MISSING',
        `Access denied: the access policy of ${cube.name} filters rows by the security context claims ${reads.missing.join(', ')}, which this security context does not have`,
      );
    }
    raw = reads.result;
  } catch (cause) {
    if (cause instanceof EngineError && cause.code === 'ERR_AUTH_CLAIMS_MISSING') throw cause;
    throw new EngineError(
      'ERR_QUERY_FORBIDDEN_MEMBER',
      `Access denied: the access policy of cube ${cube.name} cannot be evaluated for this security context`,
      { cause },
    );
  }
  if (!Array.isArray(raw)) throw new EngineError('ERR_INTERNAL', `rowLevel.filters of cube ${cube.name} must give an array`);
  if (raw.length === 0) {
    // An empty list would otherwise mean "no restriction" by accident; allowAll says that on purpose.
    throw new EngineError(
      'ERR_QUERY_FORBIDDEN_MEMBER',
      `Access denied: the access policy of cube ${cube.name} gives no row filter for this security context`,
    );
  }
  const nodes = raw.map((f) => toFilterNode(f, cube, model));
  return nodes.length === 1 ? (nodes[0] as FilterNode) : group('and', nodes);
}

function toFilterNode(raw: unknown, cube: Cube, model: Model): FilterNode {
  const bug = (why: string) => new EngineError('ERR_INTERNAL', `An access policy row filter of cube ${cube.name} ${why}`);
  if (!isPlainObject(raw)) throw bug('is not an object');
  for (const kind of ['and', 'or'] as const) {
    if (kind in raw) {
      const children = raw[kind];
      if (!Array.isArray(children) || children.length === 0) throw bug(`has an empty ${kind}`);
      return group(kind, children.map((c) => toFilterNode(c, cube, model)));
    }
  }

  const memberRaw = raw.member ?? raw.dimension;
  if (typeof memberRaw !== 'string') throw bug('has no member');
  const [owner, short] = memberRaw.includes('.') ? splitMember(memberRaw) : [cube.name, memberRaw];
  // Row filters stay on their own cube, so a policy can never widen into (or join) another one.
  if (owner !== cube.name || !model.cubes.get(owner)?.dimensions.has(short)) {
    throw bug(`names ${memberRaw}, which is not a dimension of ${cube.name}`);
  }
  const member = `${owner}.${short}`;

  const operator = raw.operator as FilterOperator;
  if (!ROW_OPERATORS.has(operator)) throw bug(`on ${member} uses an unsupported operator`);
  const values = toValues(raw.values, member, cube);
  if (!VALUELESS_OPERATORS.has(operator) && values.length === 0) {
    throw new EngineError(
      'ERR_QUERY_FORBIDDEN_MEMBER',
      `Access denied: the access policy of cube ${cube.name} has no value for ${member} in this security context`,
    );
  }
  return Object.freeze({ kind: 'leaf', member, operator, values: Object.freeze(values) });
}

/** Context values become filter values (bound parameters later); a missing one denies. */
function toValues(raw: unknown, member: string, cube: Cube): FilterValue[] {
  if (raw === undefined) return [];
  const list: readonly unknown[] = Array.isArray(raw) ? raw : [raw];
  return list.map((v): FilterValue => {
    if (typeof v === 'string' || v === null) return v;
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    throw new EngineError(
      'ERR_QUERY_FORBIDDEN_MEMBER',
      `Access denied: the access policy of cube ${cube.name} needs a value for ${member} that this security context does not have`,
    );
  });
}
