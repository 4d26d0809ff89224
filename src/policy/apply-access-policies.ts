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
  type ValidatedQuery,
} from '../query/validated-query.js';
import type { AccessPolicy, Cube, Model, SecurityContext } from '../schema/model.js';
import { applicablePolicies, policyGrants, splitMember } from './applicable-policies.js';

const forbidden = (member: string) =>
  new EngineError('ERR_QUERY_FORBIDDEN_MEMBER', `Access denied: no access policy grants ${member} to this security context`);

/**
 * Returns `query` with one more `and` filter holding the row filters of every
 * policed cube it touches, or throws `ERR_QUERY_FORBIDDEN_MEMBER` (403) for the
 * first member no applicable policy grants. Cubes without policies stay open.
 *
 * Row filters: for each member, the OR of its granting policies' filters (a
 * policy without `rowLevel`, or with `allowAll`, lifts the restriction); ANDed
 * over the members of a cube and across cubes. Run it after `queryRewrite`, so
 * a rewrite can neither add an ungranted member nor drop a row filter.
 */
export function applyAccessPolicies(
  query: ValidatedQuery,
  model: Model,
  auth: AuthResult,
  groups: readonly string[],
): ValidatedQuery {
  const groupSet = new Set(groups);
  const byCube = new Map<string, string[]>();
  for (const name of queriedMembers(query)) {
    const [cube, member] = splitMember(name);
    const list = byCube.get(cube) ?? [];
    if (!list.includes(member)) list.push(member);
    byCube.set(cube, list);
  }

  const cubeConstraints: FilterNode[] = [];
  for (const [cubeName, members] of byCube) {
    const cube = model.cubes.get(cubeName);
    if (cube?.accessPolicy === undefined || cube.accessPolicy.length === 0) continue;
    const policies = applicablePolicies(cube, auth.rawContext, groupSet);
    const memberConstraints = new Map<string, FilterNode>();
    for (const member of members) {
      const granting = policies.filter((p) => policyGrants(p, cubeName, member));
      if (granting.length === 0) throw forbidden(`${cubeName}.${member}`);
      if (granting.some(allowsAllRows)) continue;
      // Members granted by the same policies share one constraint; the key keeps the SQL free of repeats.
      const key = granting.map((p) => policies.indexOf(p)).join(',');
      if (!memberConstraints.has(key)) {
        const nodes = granting.map((p) => policyRowFilter(p, cube, model, auth.rawContext));
        memberConstraints.set(key, nodes.length === 1 ? (nodes[0] as FilterNode) : group('or', nodes));
      }
    }
    cubeConstraints.push(...memberConstraints.values());
  }
  if (cubeConstraints.length === 0) return query;
  return Object.freeze({ ...query, filters: Object.freeze([...query.filters, group('and', cubeConstraints)]) });
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
function policyRowFilter(policy: AccessPolicy, cube: Cube, model: Model, context: SecurityContext): FilterNode {
  const rowLevel = policy.rowLevel as { readonly filters: (c: SecurityContext) => readonly unknown[] };
  let raw: readonly unknown[];
  try {
    raw = rowLevel.filters(context);
  } catch (cause) {
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
