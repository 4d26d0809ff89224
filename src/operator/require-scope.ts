/**
 * The per-route scope check: `query` for /load and /sql, `meta` for /meta.
 */
import type { ApiScope, AuthResult } from '../auth/auth-result.js';
import { invalidApiKey } from './create-api-key-authenticator.js';

/**
 * Throws the same 401 as an unknown key when the caller lacks `scope`, so a
 * response never says whether a key exists. Tokens carry every scope.
 */
export function requireScope(auth: AuthResult, scope: ApiScope): void {
  if (!auth.scopes.includes(scope)) throw invalidApiKey(`the credential lacks the ${scope} scope`);
}
