/**
 * Cube's `contextToGroups`: the groups access policies are matched against.
 */
import type { AuthResult } from '../auth/auth-result.js';
import { hookFailure } from '../auth/hook-failure.js';
import type { ConfigHooks } from '../config/config.js';
import { EngineError } from '../errors/engine-error.js';

export type ContextToGroupsHook = NonNullable<ConfigHooks['contextToGroups']>;

/**
 * The caller's groups. Without a hook there are none, so only `group: '*'`
 * policies apply (Cube's rule). A throw denies (403); a result that is not an
 * array of strings is a configuration bug (500).
 */
export async function resolveGroups(auth: AuthResult, hook: ContextToGroupsHook | undefined): Promise<readonly string[]> {
  if (hook === undefined) return Object.freeze([]);
  let groups: unknown;
  try {
    groups = await hook({ securityContext: auth.rawContext });
  } catch (error) {
    throw hookFailure(error, 'Access denied by contextToGroups');
  }
  if (!Array.isArray(groups) || !groups.every((g): g is string => typeof g === 'string')) {
    throw new EngineError('ERR_INTERNAL', 'contextToGroups must return an array of strings');
  }
  return Object.freeze([...groups]);
}
