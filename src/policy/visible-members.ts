/**
 * What `/meta` may show a caller under the cubes' access policies.
 */
import type { AuthResult } from '../auth/auth-result.js';
import { EngineError } from '../errors/engine-error.js';
import type { Model } from '../schema/model.js';
import { applicablePolicies, policyGrants } from './applicable-policies.js';

/**
 * Every `Cube.member` (measures, dimensions, segments) some applicable policy
 * grants; all members of cubes without policies. The `public` flag is a
 * separate, later filter.
 */
export function visibleMembers(model: Model, auth: AuthResult, groups: readonly string[], strict = true): ReadonlySet<string> {
  const groupSet = new Set(groups);
  const visible = new Set<string>();
  for (const cube of model.cubes.values()) {
    const names = [...cube.measures.keys(), ...cube.dimensions.keys(), ...cube.segments.keys()];
    const policed = cube.accessPolicy !== undefined && cube.accessPolicy.length > 0;
    const policies = policed ? applicablePolicies(cube, auth.rawContext, groupSet, strict) : [];
    for (const name of names) {
      if (!policed || policies.some((p) => policyGrants(p, cube.name, name))) visible.add(`${cube.name}.${name}`);
    }
  }
  return visible;
}

/** `Cube.member` of a wire name (`Cube.member.granularity` included), or undefined when it is not one. */
function memberOfName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const [cube, member] = name.split('.');
  return cube && member ? `${cube}.${member}` : undefined;
}

/** Every member name a wire query mentions, in any position (selection, filters, order, segments). */
function namesIn(wire: Readonly<Record<string, unknown>>): string[] {
  const names: unknown[] = [];
  for (const key of ['measures', 'dimensions', 'segments'] as const) {
    const list = wire[key];
    if (Array.isArray(list)) names.push(...(list as unknown[]));
  }
  if (Array.isArray(wire.timeDimensions)) for (const td of wire.timeDimensions as unknown[]) names.push((td as { dimension?: unknown } | null)?.dimension);
  const walk = (node: unknown, depth: number): void => {
    if (depth > 64 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((n) => walk(n, depth + 1));
    const f = node as Record<string, unknown>;
    names.push(f.member, f.dimension);
    walk(f.and, depth + 1);
    walk(f.or, depth + 1);
  };
  walk(wire.filters, 0);
  const order = wire.order;
  if (Array.isArray(order)) for (const pair of order as unknown[]) names.push(Array.isArray(pair) ? pair[0] : undefined);
  else if (order !== null && typeof order === 'object') names.push(...Object.keys(order));
  return names.map(memberOfName).filter((n): n is string => n !== undefined);
}

/**
 * Refuses a member the caller's policies hide, exactly like an unknown member, before validation
 * says anything about it (its kind, whether it is selected): a view member counts as hidden when
 * the cube member it exposes is.
 */
export function refuseUngrantedNames(wire: Readonly<Record<string, unknown>>, model: Model, visible: ReadonlySet<string>): void {
  for (const name of namesIn(wire)) {
    const [cubeName, member] = name.split('.') as [string, string];
    const cube = model.cubes.get(cubeName);
    const exists = cube?.measures.has(member) || cube?.dimensions.has(member) || cube?.segments.has(member);
    if (!cube || !exists) continue;
    const target = cube.viewMembers?.get(member);
    if (!visible.has(name) || (target && !visible.has(`${target.cube}.${target.member}`))) {
      throw new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown member: ${name}`);
    }
  }
}
