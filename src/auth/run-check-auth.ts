/**
 * Adapter for a config file's `checkAuth(req, auth)`, Cube's contract.
 */
import type { ConfigHooks } from '../config/config.js';
import type { AuthRequest } from '../server/app-deps.js';
import { isPlainObject } from './auth-errors.js';
import { hookFailure } from './hook-failure.js';

type CheckAuth = NonNullable<ConfigHooks['checkAuth']>;

/**
 * Runs the hook (sync or async) and returns the context it chose:
 * `req.securityContext`, else the legacy `req.authInfo`, else a returned
 * `{securityContext}` / `{security_context}`. Undefined when it set none.
 */
export async function runCheckAuth(checkAuth: CheckAuth, req: AuthRequest, token: string | undefined): Promise<unknown> {
  const target: Record<string, unknown> =
    req.raw !== null && typeof req.raw === 'object'
      ? (req.raw as Record<string, unknown>)
      : { headers: req.headers, ip: req.ip };
  // A value left on the request by something else must not count as the hook's answer.
  delete target.securityContext;
  delete target.authInfo;

  let returned: unknown;
  try {
    returned = await checkAuth(target, token);
  } catch (error) {
    throw hookFailure(error, 'Authentication failed');
  }
  if (target.securityContext !== undefined) return target.securityContext;
  if (target.authInfo !== undefined) return target.authInfo;
  if (isPlainObject(returned)) {
    if (returned.securityContext !== undefined) return returned.securityContext;
    if (returned.security_context !== undefined) return returned.security_context;
  }
  return undefined;
}
