/**
 * Which of a cube's access policies apply to a caller, and what each grants.
 */
import { EngineError } from '../errors/engine-error.js';
import type { AccessPolicy, Cube, SecurityContext } from '../schema/model.js';
import { withClaimReads } from './claim-reads.js';

/**
 * Policies whose group matches (`'*'` matches everyone) and whose conditions
 * all return `true`. A condition that throws (say, on a missing claim), or that
 * reads a claim the context lacks when `strict`, makes its policy not apply,
 * which can only take access away.
 */
export function applicablePolicies(
  cube: Cube,
  context: SecurityContext,
  groups: ReadonlySet<string>,
  strict = true,
): readonly AccessPolicy[] {
  return (cube.accessPolicy ?? []).filter(
    (policy) => policy.groups.some((g) => g === '*' || groups.has(g)) && conditionsHold(policy, context, cube.name, strict),
  );
}

function conditionsHold(policy: AccessPolicy, context: SecurityContext, cube: string, strict: boolean): boolean {
  return policy.conditions.every((condition) => {
    let result: unknown;
    try {
      const reads = withClaimReads(context, condition);
      // `!ctx.is_contractor` on a context without the claim would otherwise grant.
      if (strict && reads.missing.length > 0) return false;
      result = reads.result;
    } catch {
      return false;
    }
    if (typeof result !== 'boolean') {
      throw new EngineError('ERR_INTERNAL', `An access policy condition of cube ${cube} must return a boolean`, {
        cause: typeof result,
      });
    }
    return result;
  });
}

/** Whether a policy's `memberLevel` lets a member through; no `memberLevel` grants every member. */
export function policyGrants(policy: AccessPolicy, cube: string, member: string): boolean {
  const level = policy.memberLevel;
  if (level === undefined) return true;
  const listed = (list: readonly string[]) => list.includes('*') || list.includes(member) || list.includes(`${cube}.${member}`);
  const included = level.includes === '*' || listed(level.includes);
  return included && !listed(level.excludes);
}

/** `Cube.member` (optionally `.granularity`) → `[cube, member]`. */
export function splitMember(name: string): readonly [string, string] {
  const [cube = '', member = ''] = name.split('.');
  return [cube, member];
}
