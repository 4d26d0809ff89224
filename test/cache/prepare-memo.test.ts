/**
 * The prepared-request memo: one preparation per query text and whole verified context, none
 * for clock-dependent queries, none when a hook takes part, and no memory of failures.
 */
import { describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/auth/auth-result.js';
import { createPrepareMemo } from '../../src/cache/prepare-memo.js';

const auth = (ctx: Record<string, unknown>): AuthResult => ({ via: 'jwt', rawContext: ctx, securityContext: ctx, scopes: ['query', 'meta'] });

function counted() {
  const calls: unknown[] = [];
  return { calls, run: async (q: unknown) => { calls.push(q); return { prepared: q }; } };
}

describe('the prepared-request memo', () => {
  it('prepares an identical query from an identical context once', async () => {
    const memo = createPrepareMemo<object>({ maxEntries: 10, enabled: true });
    const { calls, run } = counted();
    const q = { measures: ['Orders.count'] };
    const a = await memo.prepare(q, auth({ tenant_id: 2 }), run);
    const b = await memo.prepare({ measures: ['Orders.count'] }, auth({ tenant_id: 2 }), run);
    expect(calls).toHaveLength(1);
    expect(b).toBe(a);
  });

  it('prepares again for a context that differs in any value, or in type', async () => {
    const memo = createPrepareMemo<object>({ maxEntries: 10, enabled: true });
    const { calls, run } = counted();
    const q = { measures: ['Orders.count'] };
    await memo.prepare(q, auth({ tenant_id: 2 }), run);
    await memo.prepare(q, auth({ tenant_id: 3 }), run);
    await memo.prepare(q, auth({ tenant_id: '2' }), run);
    await memo.prepare(q, auth({ tenant_id: 2, u: { id: 1 } }), run);
    expect(calls).toHaveLength(4);
  });

  it.each([
    ['a time dimension dateRange', { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', dateRange: 'last 7 days' }] }],
    ['a date filter', { measures: ['Orders.count'], filters: [{ member: 'Orders.createdAt', operator: 'beforeDate', values: ['today'] }] }],
  ])('never memoises a query with %s (relative dates follow the clock)', async (_name, q) => {
    const memo = createPrepareMemo<object>({ maxEntries: 10, enabled: true });
    const { calls, run } = counted();
    await memo.prepare(q, auth({}), run);
    await memo.prepare(q, auth({}), run);
    expect(calls).toHaveLength(2);
  });

  it('prepares every time when a hook takes part', async () => {
    const memo = createPrepareMemo<object>({ maxEntries: 10, enabled: false });
    const { calls, run } = counted();
    await memo.prepare({ measures: ['Orders.count'] }, auth({}), run);
    await memo.prepare({ measures: ['Orders.count'] }, auth({}), run);
    expect(calls).toHaveLength(2);
  });

  it('keeps no failure, so a bad request is checked again in full', async () => {
    const memo = createPrepareMemo<object>({ maxEntries: 10, enabled: true });
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('invalid');
    };
    await expect(memo.prepare({ measures: ['X.y'] }, auth({}), failing)).rejects.toThrow('invalid');
    await expect(memo.prepare({ measures: ['X.y'] }, auth({}), failing)).rejects.toThrow('invalid');
    expect(calls).toBe(2);
  });
});
