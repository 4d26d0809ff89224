/**
 * What the authenticate stage hands to the rest of the pipeline.
 */
import type { SecurityContext } from '../schema/model.js';

/** `metrics` opens `/metrics` to an API key; tokens never carry it. */
export type ApiScope = 'query' | 'meta' | 'metrics';

export interface AuthResult {
  /** How the caller was authenticated. */
  readonly via: 'jwt' | 'jwks' | 'dev' | 'checkAuth' | 'apiKey';
  /** The verified payload as it came (queryRewrite and policies see this, as in Cube). */
  readonly rawContext: SecurityContext;
  /** The SQL-level context (legacy `u` merged, claims namespace applied). */
  readonly securityContext: SecurityContext;
  /** Scopes granted; tokens get all of them. */
  readonly scopes: readonly ApiScope[];
  /** A stable caller id for rate limiting (`sub`, key id, …), if any. */
  readonly subject?: string | undefined;
  /** An API key the operator created explicitly for every tenant: missing claims match all rows for it. */
  readonly allTenants?: boolean | undefined;
}

/**
 * `derive(auth)` worked out once per AuthResult. A remembered token hands back the same frozen
 * AuthResult on every request, so per-caller keys (digests of the subject or the context) are
 * taken once per token instead of once per request.
 */
export function perCaller<T>(derive: (auth: AuthResult) => T): (auth: AuthResult) => T {
  const held = new WeakMap<AuthResult, T>();
  return (auth) => {
    if (held.has(auth)) return held.get(auth) as T;
    const value = derive(auth);
    held.set(auth, value);
    return value;
  };
}
