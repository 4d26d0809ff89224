/**
 * The contract between the authenticate stage and the operator's API keys (issue 4).
 */
import type { AuthRequest } from '../server/app-deps.js';
import type { AuthResult } from './auth-result.js';

/** Prefix of Tessera API keys; a bearer token with it is an API key, not a JWT. */
export const API_KEY_PREFIX = 'tsk_';

/**
 * Verifies an API key sent as `X-API-Key: <key>` or `Authorization: Bearer tsk_…`.
 * Resolves to the key's AuthResult (`via: 'apiKey'`, its bound security context);
 * rejects with an `EngineError` coded `ERR_AUTH_INVALID_KEY` for any unusable key.
 */
export type ApiKeyAuthenticator = (token: string, req: AuthRequest) => Promise<AuthResult>;
