import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/errors/engine-error.js';
import { applyQueryRewrite } from '../../src/policy/apply-query-rewrite.js';
import { resolveGroups } from '../../src/policy/resolve-groups.js';
import { parseWireQuery } from '../../src/query/wire-query.js';
import { authWith } from './support/policy-model.js';
import { failure } from '../support/engine-failure.js';

const auth = authWith({ tenant_id: 3, u: { id: 42 }, roles: ['analyst'] });
const wire = { measures: ['Orders.count'], filters: [] as unknown[] };

describe('applyQueryRewrite', () => {
  it('validates the query as it is when there is no hook', async () => {
    const seen: unknown[] = [];
    const result = await applyQueryRewrite(wire, auth, undefined, (q) => {
      seen.push(q);
      return 'validated';
    });
    expect(result).toBe('validated');
    expect(seen).toEqual([wire]);
  });

  it('hands the rewritten query, with the filter the hook pushed, to the validator', async () => {
    const result = await applyQueryRewrite(
      wire,
      auth,
      (query, { securityContext }) => {
        const q = query as typeof wire;
        q.filters.push({ member: 'Orders.tenantId', operator: 'equals', values: [String(securityContext.tenant_id)] });
        return q;
      },
      parseWireQuery,
    );
    expect(result.filters).toEqual([{ member: 'Orders.tenantId', operator: 'equals', values: ['3'] }]);
  });

  it('gives the hook the raw context, as Cube does, and a copy of the query', async () => {
    let context: unknown;
    await applyQueryRewrite(
      wire,
      auth,
      async (query, ctx) => {
        context = ctx.securityContext;
        (query as typeof wire).filters.push('mutated');
        return query;
      },
      (q) => q,
    );
    expect(context).toEqual({ tenant_id: 3, u: { id: 42 }, roles: ['analyst'] });
    expect(wire.filters).toEqual([]);
  });

  it('re-validates the result, so a rewrite cannot produce an invalid query', async () => {
    const error = await failure(
      applyQueryRewrite(wire, auth, (q) => ({ ...(q as object), limit: -1 }), parseWireQuery),
    );
    expect(error.code).toBe('ERR_QUERY_INVALID');
  });

  it('denies with a 403 ERR_AUTH_DENIED and a generic message when the hook throws', async () => {
    const cause = new Error('No tenant in context');
    const error = await failure(
      applyQueryRewrite(wire, auth, () => {
        throw cause;
      }, (q) => q),
    );
    expect([error.code, error.status, error.message]).toEqual(['ERR_AUTH_DENIED', undefined, 'Query denied by queryRewrite']);
    expect(error.cause).toBe(cause);
  });

  it('keeps the status and message of an AuthError thrown by the hook', async () => {
    const error = await failure(
      applyQueryRewrite(wire, auth, async () => {
        throw new AuthError(403, 'Orders are closed to trial accounts');
      }, (q) => q),
    );
    expect([error.status, error.message]).toEqual([403, 'Orders are closed to trial accounts']);
  });

  it('reports a hook that returns no query as a configuration bug', async () => {
    for (const returned of [undefined, null, 'query', [wire]]) {
      const error = await failure(applyQueryRewrite(wire, auth, () => returned, (q) => q));
      expect([error.code, error.message]).toEqual(['ERR_INTERNAL', 'queryRewrite must return a query object']);
    }
  });
});

describe('resolveGroups', () => {
  it('gives no groups without contextToGroups, so only "*" policies apply', async () => {
    expect(await resolveGroups(auth, undefined)).toEqual([]);
  });

  it('takes the groups contextToGroups returns from the raw context, sync or async', async () => {
    expect(await resolveGroups(auth, ({ securityContext }) => securityContext.roles)).toEqual(['analyst']);
    expect(await resolveGroups(auth, async () => ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('denies with a 403 when contextToGroups throws', async () => {
    const error = await failure(
      resolveGroups(auth, () => {
        throw new TypeError('x is undefined');
      }),
    );
    expect([error.code, error.message]).toEqual(['ERR_AUTH_DENIED', 'Access denied by contextToGroups']);
  });

  it('reports a result that is not an array of strings as a configuration bug', async () => {
    for (const returned of ['admin', [1], undefined, { admin: true }]) {
      const error = await failure(resolveGroups(auth, () => returned));
      expect([error.code, error.message]).toEqual(['ERR_INTERNAL', 'contextToGroups must return an array of strings']);
    }
  });
});
