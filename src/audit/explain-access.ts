/**
 * Explains an access decision without reading any data: for a query and a
 * security context, which cubes would be read, which access policies apply
 * (and what they grant), which row filters are added, which claims the model's
 * own SQL binds, and the SQL that would run. A refusal is explained by its code.
 */
import type { AuthResult } from '../auth/auth-result.js';
import { deriveSecurityContext } from '../auth/derive-security-context.js';
import type { Config } from '../config/config.js';
import { modelSources } from '../db/rls/model-tables.js';
import { sessionSettingsFor } from '../db/rls/run-with-settings.js';
import { isEngineError } from '../errors/engine-error.js';
import { applicablePolicies } from '../policy/applicable-policies.js';
import { createQueryPolicies } from '../policy/create-query-policies.js';
import { resolveGroups } from '../policy/resolve-groups.js';
import type { FilterNode } from '../query/validated-query.js';
import type { AccessPolicy, Model, SecurityContext } from '../schema/model.js';
import { prepareRequest } from '../server/query-pipeline.js';

export interface Explanation {
  readonly decision: 'allow' | 'deny';
  readonly code?: string | undefined;
  readonly reason?: string | undefined;
  readonly groups: readonly string[];
  readonly securityContext: SecurityContext;
  readonly queries: readonly ExplainedQuery[];
  readonly rowLevelSecurity?: { readonly role: string; readonly claims: string } | undefined;
}

interface ExplainedQuery {
  readonly cubes: readonly string[];
  readonly members: readonly string[];
  readonly policies: readonly { cube: string; index: number; groups: readonly string[]; grants: string; rows: string }[];
  /** Row filters security attaches per cube (`securityFilters`). */
  readonly rowFilters: Readonly<Record<string, readonly unknown[]>>;
  /** Filters the policy stage added to the query itself (access-policy row filters, queryRewrite). */
  readonly addedFilters: readonly unknown[];
  readonly modelFilters: Readonly<Record<string, readonly string[]>>;
  readonly sql: string;
}

/** A filter tree as plain data; values are the context's, which the caller supplied. */
function describeFilter(node: FilterNode): unknown {
  return node.kind === 'leaf' ? { member: node.member, operator: node.operator, values: node.values } : { [node.kind]: node.filters.map(describeFilter) };
}

function describePolicy(policy: AccessPolicy): { grants: string; rows: string } {
  const m = policy.memberLevel;
  const grants = !m ? 'all members' : `${m.includes === '*' ? 'all members' : m.includes.join(', ')}${m.excludes.length ? ` except ${m.excludes.join(', ')}` : ''}`;
  const rows = !policy.rowLevel ? 'all rows' : 'allowAll' in policy.rowLevel ? 'all rows (allowAll)' : 'rows matching its filters';
  return { grants, rows };
}

export async function explainAccess(deps: { config: Config; model: Model }, query: unknown, context: unknown): Promise<Explanation> {
  const derived = deriveSecurityContext(context ?? {}, deps.config.jwt.claimsNamespace, 'The security context');
  const auth: AuthResult = { via: 'checkAuth', rawContext: derived.rawContext, securityContext: derived.securityContext, scopes: ['query', 'meta'] };
  const policies = createQueryPolicies(deps.config, deps.model);
  const groups = await resolveGroups(auth, deps.config.hooks.contextToGroups);
  const settings = sessionSettingsFor(deps.config, auth.securityContext);
  const base = {
    groups,
    securityContext: auth.securityContext,
    ...(settings?.role ? { rowLevelSecurity: { role: settings.role, claims: settings.claims ?? '' } } : {}),
  };
  let prepared;
  try {
    prepared = await prepareRequest(query, { config: deps.config, model: deps.model, db: undefined as never, policies }, auth);
  } catch (err) {
    if (!isEngineError(err)) throw err;
    return { decision: 'deny', code: err.code, reason: err.message, ...base, queries: [] };
  }
  const claimsBySql = new Map(modelSources(deps.model).map((s) => [s.cube, s.claimsBound]));
  const groupSet = new Set(groups);
  const queries = prepared.queries.map((p): ExplainedQuery => {
    const cubes = p.plan.cubes;
    return {
      cubes,
      members: [...new Set([...p.query.measures, ...p.query.dimensions, ...p.query.segments, ...p.query.timeDimensions.map((t) => t.dimension)])],
      policies: cubes.flatMap((name) => {
        const cube = deps.model.cubes.get(name);
        if (!cube?.accessPolicy?.length) return [];
        const applying = new Set(applicablePolicies(cube, auth.rawContext, groupSet));
        return cube.accessPolicy.flatMap((policy, index) =>
          applying.has(policy) ? [{ cube: name, index, groups: policy.groups, ...describePolicy(policy) }] : [],
        );
      }),
      rowFilters: Object.fromEntries(Object.entries(p.cubeQuery.securityFilters ?? {}).map(([cube, nodes]) => [cube, nodes.map(describeFilter)])),
      addedFilters: p.cubeQuery.filters.slice(p.query.filters.length).map(describeFilter),
      modelFilters: Object.fromEntries(cubes.flatMap((c) => ((claimsBySql.get(c)?.length ?? 0) > 0 ? [[c, claimsBySql.get(c)!]] : []))),
      sql: p.compiled.sql,
    };
  });
  return { decision: 'allow', ...base, queries };
}
