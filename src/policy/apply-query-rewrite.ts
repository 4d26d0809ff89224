/**
 * Cube's `queryRewrite(query, {securityContext})`: the operator's hook may add
 * filters or throw to deny; its result goes through validation again.
 */
import type { AuthResult } from '../auth/auth-result.js';
import { hookFailure } from '../auth/hook-failure.js';
import type { ConfigHooks } from '../config/config.js';
import { EngineError } from '../errors/engine-error.js';

export type QueryRewriteHook = NonNullable<ConfigHooks['queryRewrite']>;

/**
 * Runs `hook` (sync or async) on a private copy of the wire query and hands its
 * result to `validate`; without a hook the query goes straight to `validate`.
 * The hook sees the raw security context, as in Cube. A throw denies the query:
 * an `AuthError` keeps its status and message, anything else is a 403
 * `ERR_AUTH_DENIED` with a generic message (the cause is kept for the log).
 */
export async function applyQueryRewrite<Q>(
  query: unknown,
  auth: AuthResult,
  hook: QueryRewriteHook | undefined,
  validate: (query: unknown) => Q | Promise<Q>,
): Promise<Q> {
  if (hook === undefined) return validate(query);
  // The hook commonly mutates its argument (`query.filters.push(…)`), so it gets a copy of its own.
  const copy: unknown = structuredClone(query);
  let rewritten: unknown;
  try {
    rewritten = await hook(copy, { securityContext: auth.rawContext });
  } catch (error) {
    throw hookFailure(error, 'Query denied by queryRewrite');
  }
  if (rewritten === null || typeof rewritten !== 'object' || Array.isArray(rewritten)) {
    throw new EngineError('ERR_INTERNAL', 'queryRewrite must return a query object', { cause: typeof rewritten });
  }
  return validate(rewritten);
}
