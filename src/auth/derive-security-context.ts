/**
 * Turns a verified payload (or a checkAuth context) into the two contexts of an
 * AuthResult, failing closed where Cube would quietly fall back to `{}`.
 */
import type { SecurityContext } from '../schema/model.js';
import { authErrors, isPlainObject } from './auth-errors.js';

export interface DerivedContext {
  readonly rawContext: SecurityContext;
  readonly securityContext: SecurityContext;
}

/**
 * `rawContext` is the payload as it came; `securityContext` is `payload[claimsNamespace]`
 * when a namespace is configured, else the payload with a legacy `u` object merged UNDER the
 * top-level claims (`{...payload.u, ...payload}` without `u`), so `u` can never override a
 * top-level claim such as `tenant_id`. Token payloads, API key contexts, checkAuth and the
 * dev-mode context all go through here. A `__proto__` key anywhere is refused.
 * @param what names the value in error messages, e.g. "The token payload".
 */
export function deriveSecurityContext(value: unknown, claimsNamespace: string | undefined, what: string): DerivedContext {
  if (!isPlainObject(value)) throw authErrors.contextNotObject(what, value);
  const raw = freezeCopy(value, what);
  if (hasProtoKey(raw)) {
    // JSON.parse makes `__proto__` an own key; claims under it would be invisible to the model yet look present.
    throw authErrors.contextInvalid(`${what} must not contain a __proto__ key`);
  }

  if (claimsNamespace !== undefined) {
    if (!Object.hasOwn(raw, claimsNamespace)) {
      // An absent namespace would otherwise become an empty context and `1 = 1` row filters.
      throw authErrors.contextInvalid(`The security context has no claims namespace ${claimsNamespace}`);
    }
    const namespaced = raw[claimsNamespace];
    if (!isPlainObject(namespaced)) throw authErrors.contextNotObject(`The claims namespace ${claimsNamespace}`, namespaced);
    return Object.freeze({ rawContext: raw, securityContext: namespaced });
  }

  if (Object.hasOwn(raw, 'u')) {
    const { u, ...rest } = raw;
    // A non-object `u` would silently drop USER_CONTEXT and turn its filters into `1 = 1`.
    if (!isPlainObject(u)) throw authErrors.contextNotObject('The legacy u claim', u);
    return Object.freeze({ rawContext: raw, securityContext: Object.freeze({ ...u, ...rest }) });
  }
  return Object.freeze({ rawContext: raw, securityContext: raw });
}

function hasProtoKey(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return true;
  return Object.values(value).some((child) => hasProtoKey(child, depth + 1));
}

/** A deep, frozen copy, so nothing later (or a checkAuth hook) can change a context under our feet. */
function freezeCopy(value: Record<string, unknown>, what: string): SecurityContext {
  let copy: unknown;
  try {
    copy = structuredClone(value);
  } catch (cause) {
    throw authErrors.contextInvalid(`${what} must be plain JSON data`, cause);
  }
  return deepFreeze(copy) as SecurityContext;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
