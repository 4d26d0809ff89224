/**
 * What `/meta` may show a caller under the cubes' access policies.
 */
import type { AuthResult } from '../auth/auth-result.js';
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
