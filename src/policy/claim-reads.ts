/**
 * Runs a policy function (a condition or `rowLevel.filters`) over a copy of the context that
 * notes every claim it reads that the context does not have.
 */
import type { SecurityContext } from '../schema/model.js';

export interface ClaimReads<T> {
  readonly result: T;
  /** Paths such as `tenant_id` or `user.org` that were read and are missing. */
  readonly missing: readonly string[];
}

/** Calls `fn` with a read-tracking view of `context`; a nested missing read (`a.b` of a missing `a`) throws inside `fn`. */
export function withClaimReads<T>(context: SecurityContext, fn: (context: SecurityContext) => T): ClaimReads<T> {
  const missing: string[] = [];
  // A copy, because a proxy of a frozen object may not hand out proxies of its children.
  const copy = structuredClone(context) as Record<string, unknown>;
  const result = fn(track(copy, [], missing) as SecurityContext);
  return { result, missing };
}

function track(target: object, path: readonly string[], missing: string[]): object {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'symbol') return Reflect.get(t, prop, receiver);
      if (!Object.hasOwn(t, prop)) {
        // Inherited methods (`toString`, `includes`) are not claims; anything else absent is a missing claim.
        if (prop in t) return Reflect.get(t, prop, receiver);
        missing.push([...path, prop].join('.'));
        return undefined;
      }
      const value = (t as Record<string, unknown>)[prop];
      return value !== null && typeof value === 'object' ? track(value, [...path, prop], missing) : value;
    },
    set: () => false,
    deleteProperty: () => false,
  });
}
