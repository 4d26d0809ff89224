/**
 * A cube's `access_policy` entries → AccessPolicy: groups, conditions, member level and
 * row level filters, each value a function of the security context evaluated per request.
 */
import { ModelError } from '../../errors/engine-error.js';
import { FILTER_OPERATORS, type FilterOperator } from '../../query/validated-query.js';
import { bindContextFunction, evaluateReferences, type TemplateScope } from '../bind-template.js';
import type { AccessPolicy, Cube, SecurityContext } from '../model.js';
import type { BuildState, Sourced } from './build-state.js';
import { keySet, memberOf, qualifyMember, readKeys, type Where } from './read-helpers.js';

const POLICY_KEYS = keySet('group', 'groups', 'role', 'conditions', 'memberLevel', 'rowLevel', 'memberMasking');
const OPERATORS: ReadonlySet<string> = new Set(FILTER_OPERATORS);
const VALUELESS_OPERATORS: ReadonlySet<string> = keySet('set', 'notSet');

type PolicyFilter = (securityContext: SecurityContext) => unknown;

function buildPolicyFilter(state: BuildState, cube: Cube, raw: unknown, where: Where, scope: TemplateScope, at: string): PolicyFilter {
  const d = readKeys(raw, keySet('member', 'memberReference', 'operator', 'values', 'and', 'or'), where, at);
  for (const kind of ['and', 'or'] as const) {
    if (d[kind] === undefined) continue;
    const children = d[kind];
    if (d.member !== undefined || d.and !== undefined && d.or !== undefined || !Array.isArray(children) || children.length === 0) {
      throw new ModelError(`${at} must have either a non-empty ${kind} list or a member`, where);
    }
    const built = children.map((c: unknown, i: number) => buildPolicyFilter(state, cube, c, where, scope, `${at}.${kind}.${i}`));
    return (sc) => Object.freeze({ [kind]: Object.freeze(built.map((f) => f(sc))) });
  }
  if (d.member === undefined) throw new ModelError(`${at} needs a member`, where);
  const refs = evaluateReferences(d.member, { ...scope, label: `${scope.label}.${at}.member` });
  if (refs.length !== 1) throw new ModelError(`${at}.member must be one member`, where);
  const ref = refs[0] as string;
  const member = qualifyMember(ref, cube.name, state.index, ['dimension'], where, `${at}.member`);
  if (!member.startsWith(`${cube.name}.`)) throw new ModelError(`${at}.member ${ref} is not a dimension of ${cube.name}`, where);
  if (typeof d.operator !== 'string' || !OPERATORS.has(d.operator)) {
    throw new ModelError(`${at}.operator must be one of ${FILTER_OPERATORS.join(', ')}`, where);
  }
  const operator = d.operator as FilterOperator;
  if (d.values === undefined && !VALUELESS_OPERATORS.has(operator)) throw new ModelError(`${at} needs values`, where);
  const values = d.values === undefined ? undefined : bindContextFunction(d.values, { ...scope, label: `${scope.label}.${at}.values` });
  return (sc) => {
    if (!values) return Object.freeze({ member, operator });
    const v = values(sc);
    return Object.freeze({ member, operator, values: Array.isArray(v) ? Object.freeze([...v]) : v });
  };
}

function memberList(value: unknown, cube: Cube, where: Where, what: string): '*' | readonly string[] {
  if (value === '*') return '*';
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new ModelError(`${what} must be '*' or a list of member names`, where);
  }
  return Object.freeze(
    value.map((name) => {
      if (name.includes('.')) throw new ModelError(`Paths aren't allowed in the accessPolicy policy but '${name}' provided as ${what}`, where);
      if (!memberOf(cube, name)) throw new ModelError(`${what} member '${name}' is not defined in ${cube.name}`, where);
      return `${cube.name}.${name}`;
    }),
  );
}

export function buildPolicy(state: BuildState, cube: Cube, src: Sourced, i: number): AccessPolicy {
  const where = { file: src.file, member: `${cube.name}.accessPolicy.${i}` };
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label: where.member };
  const d = readKeys(src.raw, POLICY_KEYS, where, 'access policy');
  if (d.role !== undefined) throw new ModelError("'role' is no longer supported in access policies; use 'group' or 'groups'", where);
  if (d.group !== undefined && d.groups !== undefined) {
    throw new ModelError("Access policy cannot have both 'group' and 'groups' properties.", where);
  }
  let groups: string[];
  if (typeof d.group === 'string') groups = [d.group];
  else if (Array.isArray(d.groups) && d.groups.length > 0 && d.groups.every((g) => typeof g === 'string')) groups = [...(d.groups as string[])];
  else throw new ModelError("Access policy needs 'group' (a string) or 'groups' (a non-empty list of strings)", where);

  if (d.conditions !== undefined && !Array.isArray(d.conditions)) throw new ModelError('conditions must be a list of {if}', where);
  const conditions = ((d.conditions ?? []) as unknown[]).map((c, j) => {
    const cd = readKeys(c, keySet('if'), where, `conditions.${j}`);
    if (cd.if === undefined) throw new ModelError(`conditions.${j} needs if`, where);
    return bindContextFunction(cd.if, { ...scope, label: `${scope.label}.conditions.${j}` });
  });

  let memberLevel: AccessPolicy['memberLevel'];
  if (d.memberLevel !== undefined) {
    const md = readKeys(d.memberLevel, keySet('includes', 'excludes'), where, 'memberLevel');
    const all = [...cube.measures.keys(), ...cube.dimensions.keys(), ...cube.segments.keys()].map((m) => `${cube.name}.${m}`);
    const excludes = md.excludes === undefined ? [] : memberList(md.excludes, cube, where, 'excludes');
    memberLevel = Object.freeze({
      includes: md.includes === undefined ? '*' : memberList(md.includes, cube, where, 'includes'),
      excludes: excludes === '*' ? Object.freeze(all) : excludes,
    });
  }

  let rowLevel: AccessPolicy['rowLevel'];
  if (d.rowLevel !== undefined) {
    const rd = readKeys(d.rowLevel, keySet('filters', 'allowAll'), where, 'rowLevel');
    if ((rd.filters === undefined) === (rd.allowAll === undefined)) {
      throw new ModelError('rowLevel needs exactly one of filters and allowAll', where);
    }
    if (rd.allowAll !== undefined) {
      if (rd.allowAll !== true) throw new ModelError('rowLevel.allowAll can only be true', where);
      rowLevel = Object.freeze({ allowAll: true as const });
    } else {
      if (!Array.isArray(rd.filters)) throw new ModelError('rowLevel.filters must be a list', where);
      const filters = rd.filters.map((f: unknown, j: number) => buildPolicyFilter(state, cube, f, where, scope, `rowLevel.filters.${j}`));
      rowLevel = Object.freeze({ filters: (sc: SecurityContext) => Object.freeze(filters.map((f) => f(sc))) });
    }
  }
  return Object.freeze({ groups: Object.freeze(groups), conditions: Object.freeze(conditions), memberLevel, rowLevel });
}

