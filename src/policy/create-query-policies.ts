/**
 * The policy stages of the /load, /sql and /meta pipelines, built once from
 * config and model: queryRewrite, then access policies, plus /meta visibility.
 */
import type { AuthResult } from '../auth/auth-result.js';
import { securityOf, type Config } from '../config/config.js';
import type { ReadSet, ValidatedQuery } from '../query/validated-query.js';
import type { Model } from '../schema/model.js';
import { applyAccessPolicies, readSources } from './apply-access-policies.js';
import { applyQueryRewrite } from './apply-query-rewrite.js';
import { resolveGroups } from './resolve-groups.js';
import { missingClaimsAllowed } from '../schema/security-context-proxy.js';
import { checkSchemaClaims } from './check-schema-claims.js';
import { checkSecurityFilterClaims } from './security-filter-claims.js';
import { visibleMembers } from './visible-members.js';

export interface QueryPolicyStages {
  /** The operator's queryRewrite on the normalised wire query; the caller validates the result again. Absent without a hook. */
  readonly rewrite?: ((query: Record<string, unknown>, auth: AuthResult) => Promise<unknown>) | undefined;
  /**
   * Access policies: member checks and row filters. Run it after rewrite and its re-validation,
   * with `read`, every cube and view whose rows the planned query reads.
   */
  readonly restrict: (query: ValidatedQuery, auth: AuthResult, read?: ReadSet) => Promise<ValidatedQuery>;
  /** Members `/meta` may show; `undefined` when no cube has a policy (everything public is visible). */
  readonly visibleMembers: (auth: AuthResult) => Promise<ReadonlySet<string> | undefined>;
}

export function createQueryPolicies(config: Config, model: Model): QueryPolicyStages {
  const { queryRewrite, contextToGroups } = config.hooks;
  // As in Cube, a model without policies skips the step entirely (contextToGroups is not even called).
  const policed = [...model.cubes.values()].some((c) => (c.accessPolicy?.length ?? 0) > 0);
  const { missingClaims } = securityOf(config);
  checkSchemaClaims(config.hooks.securityContextSchema, model);
  return Object.freeze({
    rewrite:
      queryRewrite === undefined
        ? undefined
        : (query: Record<string, unknown>, auth: AuthResult) => applyQueryRewrite(query, auth, queryRewrite, (q) => q),
    restrict: async (query: ValidatedQuery, auth: AuthResult, read?: ReadSet) => {
      const sources = readSources(query, model, read);
      // An all-tenants API key (or the matchAll switch) is the explicit choice of Cube's reading.
      const refuse = missingClaims === 'refuse' && !missingClaimsAllowed(auth.securityContext);
      // Runs with or without access policies: a `.filter()` whose claims are all missing is the leak either way.
      if (refuse) checkSecurityFilterClaims(model, sources.cubes, auth.securityContext);
      if (!policed) return query;
      const groups = await resolveGroups(auth, contextToGroups);
      return applyAccessPolicies(query, model, auth, groups, { read: sources, missingClaims: refuse ? 'refuse' : 'matchAll' });
    },
    visibleMembers: async (auth: AuthResult) =>
      policed ? visibleMembers(model, auth, await resolveGroups(auth, contextToGroups), missingClaims === 'refuse') : undefined,
  });
}
