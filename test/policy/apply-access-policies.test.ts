import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';
import { applyAccessPolicies, queriedMembers } from '../../src/policy/apply-access-policies.js';
import { visibleMembers } from '../../src/policy/visible-members.js';
import { authWith, cube, model, policy, query, rowFilters } from './support/policy-model.js';

const ORDERS = { measures: ['count', 'amount'], dimensions: ['status', 'tenantId', 'userId', 'region'], segments: ['big'] };
const tenantFilter = rowFilters((ctx) => [{ member: 'tenantId', operator: 'equals', values: [ctx.tenant_id] }]);

function denied(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('applyAccessPolicies', () => {
  const ctx = authWith({ tenant_id: 7, region: 'EU', user_id: 42 });

  it('returns the query untouched when no touched cube has policies', () => {
    const m = model(cube('Orders', ORDERS), cube('Users', { dimensions: ['city'] }, [policy({ groups: ['admin'] })]));
    const q = query({ measures: ['Orders.count'] });
    expect(applyAccessPolicies(q, m, ctx, [])).toBe(q);
  });

  it("adds a policy's row filter, with the context value as a string to bind", () => {
    const m = model(cube('Orders', ORDERS, [policy({ rowLevel: tenantFilter })]));
    const result = applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, []);
    expect(result.filters).toEqual([
      { kind: 'and', filters: [{ kind: 'leaf', member: 'Orders.tenantId', operator: 'equals', values: ['7'] }] },
    ]);
    expect(Object.isFrozen(result)).toBe(true);
  });

  it('keeps the query own filters and appends the policy filters after them', () => {
    const m = model(cube('Orders', ORDERS, [policy({ rowLevel: tenantFilter })]));
    const own = { kind: 'leaf', member: 'Orders.status', operator: 'equals', values: ['shipped'] } as const;
    const result = applyAccessPolicies(query({ measures: ['Orders.count'], filters: [own] }), m, ctx, []);
    expect(result.filters[0]).toBe(own);
    expect(result.filters).toHaveLength(2);
  });

  it('lets allowAll and policies without rowLevel through without row filters', () => {
    for (const rowLevel of [{ allowAll: true } as const, undefined]) {
      const m = model(cube('Orders', ORDERS, [policy({ rowLevel })]));
      const q = query({ measures: ['Orders.count'] });
      expect(applyAccessPolicies(q, m, ctx, [])).toBe(q);
    }
  });

  it('refuses a member no policy grants exactly like an unknown member, when no policy applies to the caller groups', () => {
    const m = model(cube('Orders', ORDERS, [policy({ groups: ['manager'], rowLevel: tenantFilter })]));
    const error = denied(() => applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, ['analyst']));
    expect([error.code, error.message]).toEqual(['ERR_QUERY_UNKNOWN_MEMBER', 'Unknown member: Orders.count']);
  });

  it('matches a group from contextToGroups, and any of a policy groups', () => {
    const m = model(cube('Orders', ORDERS, [policy({ groups: ['manager', 'analyst'], rowLevel: { allowAll: true } })]));
    const q = query({ measures: ['Orders.count'] });
    expect(applyAccessPolicies(q, m, ctx, ['analyst'])).toBe(q);
  });

  it('grants only the members memberLevel.includes lists, naming the first one refused', () => {
    const m = model(
      cube('Orders', ORDERS, [policy({ memberLevel: { includes: ['count', 'status'], excludes: [] }, rowLevel: { allowAll: true } })]),
    );
    expect(applyAccessPolicies(query({ measures: ['Orders.count'], dimensions: ['Orders.status'] }), m, ctx, [])).toBeDefined();
    const error = denied(() => applyAccessPolicies(query({ measures: ['Orders.count', 'Orders.amount'] }), m, ctx, []));
    expect(error.message).toBe('Unknown member: Orders.amount');
  });

  it('refuses members in memberLevel.excludes, even with includes "*"', () => {
    const m = model(cube('Orders', ORDERS, [policy({ memberLevel: { includes: '*', excludes: ['amount'] } })]));
    expect(() => applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, [])).not.toThrow();
    expect(denied(() => applyAccessPolicies(query({ measures: ['Orders.amount'] }), m, ctx, [])).code).toBe(
      'ERR_QUERY_UNKNOWN_MEMBER',
    );
  });

  it('checks members used only in filters, segments, time dimensions and order too', () => {
    const m = model(cube('Orders', ORDERS, [policy({ memberLevel: { includes: ['count'], excludes: [] } })]));
    const cases = [
      query({ measures: ['Orders.count'], filters: [{ kind: 'leaf', member: 'Orders.region', operator: 'set', values: [] }] }),
      query({ measures: ['Orders.count'], segments: ['Orders.big'] }),
      query({ measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.status', granularity: 'day' }] }),
      query({ measures: ['Orders.count'], order: [['Orders.region.month', 'asc']] }),
    ];
    for (const q of cases) expect(denied(() => applyAccessPolicies(q, m, ctx, [])).code).toBe('ERR_QUERY_UNKNOWN_MEMBER');
  });

  it('ORs the row filters of several policies granting the same member', () => {
    const m = model(
      cube('Orders', ORDERS, [
        policy({ rowLevel: tenantFilter }),
        policy({ groups: ['eu'], rowLevel: rowFilters((c) => [{ member: 'Orders.region', operator: 'equals', values: [c.region] }]) }),
      ]),
    );
    const result = applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, ['eu']);
    expect(result.filters).toEqual([
      {
        kind: 'and',
        filters: [
          {
            kind: 'or',
            filters: [
              { kind: 'leaf', member: 'Orders.tenantId', operator: 'equals', values: ['7'] },
              { kind: 'leaf', member: 'Orders.region', operator: 'equals', values: ['EU'] },
            ],
          },
        ],
      },
    ]);
  });

  it('lifts the restriction on a member when one of its granting policies allows all rows', () => {
    const m = model(cube('Orders', ORDERS, [policy({ rowLevel: tenantFilter }), policy({ groups: ['admin'], rowLevel: { allowAll: true } })]));
    const q = query({ measures: ['Orders.count'] });
    expect(applyAccessPolicies(q, m, ctx, ['admin'])).toBe(q);
    expect(applyAccessPolicies(q, m, ctx, [])).not.toBe(q);
  });

  it('ANDs the constraints of members granted by different policies, once per distinct policy set', () => {
    const m = model(
      cube('Orders', ORDERS, [
        policy({ memberLevel: { includes: ['count', 'status'], excludes: [] }, rowLevel: tenantFilter }),
        policy({
          memberLevel: { includes: ['amount'], excludes: [] },
          rowLevel: rowFilters((c) => [{ member: 'userId', operator: 'equals', values: [c.user_id] }]),
        }),
      ]),
    );
    const result = applyAccessPolicies(
      query({ measures: ['Orders.count', 'Orders.amount'], dimensions: ['Orders.status'] }),
      m,
      ctx,
      [],
    );
    expect(result.filters).toEqual([
      {
        kind: 'and',
        filters: [
          { kind: 'leaf', member: 'Orders.tenantId', operator: 'equals', values: ['7'] },
          { kind: 'leaf', member: 'Orders.userId', operator: 'equals', values: ['42'] },
        ],
      },
    ]);
  });

  it('ANDs row filters across cubes, and leaves cubes without policies open', () => {
    const m = model(
      cube('Orders', ORDERS, [policy({ rowLevel: tenantFilter })]),
      cube('Users', { dimensions: ['tenantId', 'city'] }, [
        policy({ rowLevel: rowFilters((c) => [{ member: 'tenantId', operator: 'equals', values: [c.tenant_id] }]) }),
      ]),
      cube('Products', { dimensions: ['name'] }),
    );
    const result = applyAccessPolicies(
      query({ measures: ['Orders.count'], dimensions: ['Users.city', 'Products.name'] }),
      m,
      ctx,
      [],
    );
    expect(result.filters).toEqual([
      {
        kind: 'and',
        filters: [
          { kind: 'leaf', member: 'Orders.tenantId', operator: 'equals', values: ['7'] },
          { kind: 'leaf', member: 'Users.tenantId', operator: 'equals', values: ['7'] },
        ],
      },
    ]);
  });

  it('ANDs several filters of one policy and keeps nested and/or groups', () => {
    const m = model(
      cube('Orders', ORDERS, [
        policy({
          rowLevel: rowFilters((c) => [
            { member: 'tenantId', operator: 'equals', values: [c.tenant_id] },
            { or: [{ member: 'status', operator: 'equals', values: ['shipped', 'completed'] }, { member: 'region', operator: 'notSet' }] },
          ]),
        }),
      ]),
    );
    const result = applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, []);
    expect(result.filters).toEqual([
      {
        kind: 'and',
        filters: [
          {
            kind: 'and',
            filters: [
              { kind: 'leaf', member: 'Orders.tenantId', operator: 'equals', values: ['7'] },
              {
                kind: 'or',
                filters: [
                  { kind: 'leaf', member: 'Orders.status', operator: 'equals', values: ['shipped', 'completed'] },
                  { kind: 'leaf', member: 'Orders.region', operator: 'notSet', values: [] },
                ],
              },
            ],
          },
        ],
      },
    ]);
  });

  it('applies a policy only when all its conditions return true', () => {
    const m = model(
      cube('Orders', ORDERS, [
        policy({ conditions: [(c) => c.region === 'EU', (c) => typeof c.tenant_id === 'number'], rowLevel: { allowAll: true } }),
      ]),
    );
    const q = query({ measures: ['Orders.count'] });
    expect(applyAccessPolicies(q, m, ctx, [])).toBe(q);
    expect(denied(() => applyAccessPolicies(q, m, authWith({ region: 'US', tenant_id: 1 }), [])).code).toBe(
      'ERR_QUERY_UNKNOWN_MEMBER',
    );
  });

  it('treats a condition that throws as false, which can only deny', () => {
    const m = model(
      cube('Orders', ORDERS, [
        policy({ conditions: [(c) => (c.org as { paid: boolean }).paid], rowLevel: { allowAll: true } }),
      ]),
    );
    expect(denied(() => applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, [])).code).toBe(
      'ERR_QUERY_UNKNOWN_MEMBER',
    );
  });

  it('reports a condition that returns a non-boolean as a model bug', () => {
    const m = model(cube('Orders', ORDERS, [policy({ conditions: [() => 'yes'] })]));
    const error = denied(() => applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, []));
    expect([error.code, error.message]).toEqual(['ERR_INTERNAL', 'An access policy condition of cube Orders must return a boolean']);
  });

  it('denies when a row filter needs a context value the token does not carry', () => {
    const m = model(cube('Orders', ORDERS, [policy({ rowLevel: tenantFilter })]));
    const cases = [
      [{}, 'ERR_AUTH_CLAIMS_MISSING'],
      [{ tenant_id: { nested: 1 } }, 'ERR_QUERY_FORBIDDEN_MEMBER'],
      [{ tenant_id: [] }, 'ERR_QUERY_FORBIDDEN_MEMBER'],
    ] as const;
    for (const [context, code] of cases) {
      const error = denied(() => applyAccessPolicies(query({ measures: ['Orders.count'] }), m, authWith(context), []));
      expect(error.code).toBe(code);
    }
  });

  it('binds every element of an array context value', () => {
    const m = model(
      cube('Orders', ORDERS, [policy({ rowLevel: rowFilters((c) => [{ member: 'region', operator: 'equals', values: c.regions }]) })]),
    );
    const result = applyAccessPolicies(query({ measures: ['Orders.count'] }), m, authWith({ regions: ['EU', 'US', 3, true] }), []);
    expect(result.filters).toEqual([
      { kind: 'and', filters: [{ kind: 'leaf', member: 'Orders.region', operator: 'equals', values: ['EU', 'US', '3', 'true'] }] },
    ]);
  });

  it('denies when a row filter function throws or gives no filter', () => {
    const throwing = model(cube('Orders', ORDERS, [policy({ rowLevel: rowFilters((c) => [{ member: 'x', values: [(c.a as { b: 1 }).b] }]) })]));
    const empty = model(cube('Orders', ORDERS, [policy({ rowLevel: rowFilters(() => []) })]));
    for (const m of [throwing, empty]) {
      expect(denied(() => applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, [])).code).toBe(
        'ERR_QUERY_FORBIDDEN_MEMBER',
      );
    }
  });

  it('refuses a row filter on another cube or on an unknown member', () => {
    const m = model(
      cube('Orders', ORDERS, [policy({ rowLevel: rowFilters(() => [{ member: 'Users.tenantId', operator: 'equals', values: ['1'] }]) })]),
      cube('Users', { dimensions: ['tenantId'] }),
    );
    const error = denied(() => applyAccessPolicies(query({ measures: ['Orders.count'] }), m, ctx, []));
    expect([error.code, error.message]).toEqual([
      'ERR_INTERNAL',
      'An access policy row filter of cube Orders names Users.tenantId, which is not a dimension of Orders',
    ]);
  });
});

describe('queriedMembers', () => {
  it('lists every member a query touches once, without granularities', () => {
    const q = query({
      measures: ['Orders.count'],
      dimensions: ['Orders.status'],
      timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }],
      filters: [{ kind: 'or', filters: [{ kind: 'leaf', member: 'Orders.region', operator: 'set', values: [] }] }],
      order: [['Orders.createdAt.month', 'asc'], ['Orders.count', 'desc']],
    });
    expect(queriedMembers(q)).toEqual(['Orders.count', 'Orders.status', 'Orders.createdAt', 'Orders.region']);
  });
});

describe('visibleMembers', () => {
  const m = model(
    cube('Orders', ORDERS, [
      policy({ groups: ['analyst'], memberLevel: { includes: ['count', 'status'], excludes: [] } }),
      policy({ groups: ['admin'] }),
    ]),
    cube('Products', { dimensions: ['name'] }),
  );

  it('shows only members an applicable policy grants, and every member of cubes without policies', () => {
    expect([...visibleMembers(m, authWith({}), ['analyst'])].sort()).toEqual(['Orders.count', 'Orders.status', 'Products.name']);
  });

  it('shows all members to a group whose policy has no memberLevel', () => {
    expect(visibleMembers(m, authWith({}), ['admin']).size).toBe(8);
  });

  it('hides a policed cube entirely from a caller no policy applies to', () => {
    expect([...visibleMembers(m, authWith({}), [])]).toEqual(['Products.name']);
  });
});
