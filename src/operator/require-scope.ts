/**
 * The per-route scope check: `query` for /load, /sql and /dry-run, `meta` for /meta.
 */
import type { ApiScope, AuthResult } from '../auth/auth-result.js';
import { EngineError } from '../errors/engine-error.js';
import { invalidApiKey } from './create-api-key-authenticator.js';

/**
 * Throws when the caller lacks `scope`. An API key gets the same 401 as an
 * unknown key, so a response never says whether a key exists; tokens carry
 * every scope, so the 403 is only for custom authenticators that narrow them.
 */
export function requireScope(auth: AuthResult, scope: ApiScope): void {
  if (auth.scopes.includes(scope)) return;
  if (auth.via === 'apiKey') throw invalidApiKey(`the API key lacks the ${scope} scope`);
  throw new EngineError('ERR_AUTH_SCOPE', `API scope is missing: ${scope}`);
}
