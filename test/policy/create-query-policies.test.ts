import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';
import { createQueryPolicies } from '../../src/policy/create-query-policies.js';
import { testConfig } from '../auth/support/test-config.js';
import { authWith, cube, model, policy, query } from './support/policy-model.js';

describe('createQueryPolicies', () => {
  const q = query({ measures: ['Orders.count'] });

  it('skips access policies, and never calls contextToGroups, when no cube has a policy', async () => {
    let calls = 0;
    const stages = createQueryPolicies(
      testConfig({ hooks: { contextToGroups: () => (calls++, []) } }),
      model(cube('Orders', { measures: ['count'] })),
    );
    expect(await stages.restrict(q, authWith({}))).toBe(q);
    expect(await stages.visibleMembers(authWith({}))).toBeUndefined();
    expect(stages.rewrite).toBeUndefined();
    expect(calls).toBe(0);
  });

  it('matches policies against the groups contextToGroups gives', async () => {
    const stages = createQueryPolicies(
      testConfig({ hooks: { contextToGroups: ({ securityContext }) => securityContext.roles } }),
      model(cube('Orders', { measures: ['count'] }, [policy({ groups: ['admin'] })])),
    );
    expect(await stages.restrict(q, authWith({ roles: ['admin'] }))).toBe(q);
    await expect(stages.restrict(q, authWith({ roles: [] }))).rejects.toBeInstanceOf(EngineError);
    expect([...((await stages.visibleMembers(authWith({ roles: ['admin'] }))) ?? [])]).toEqual(['Orders.count']);
  });

  it('runs queryRewrite on a copy and hands back its result', async () => {
    const stages = createQueryPolicies(
      testConfig({ hooks: { queryRewrite: (query) => ({ ...(query as object), limit: 5 }) } }),
      model(cube('Orders', { measures: ['count'] })),
    );
    expect(await stages.rewrite?.({ measures: ['Orders.count'] }, authWith({}))).toEqual({ measures: ['Orders.count'], limit: 5 });
  });
});
