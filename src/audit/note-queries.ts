/** What the pipeline adds to a request's audit record once its queries are prepared. */
import type { Response } from 'express';
import { modelSources } from '../db/rls/model-tables.js';
import type { FilterNode, ValidatedQuery } from '../query/validated-query.js';
import type { Model } from '../schema/model.js';
import { auditRecordOf } from './audit-record.js';

const sqlFilters = new WeakMap<Model, ReadonlyMap<string, readonly string[]>>();

/** Per cube, the claims its own SQL binds (`Orders` → `id`, `tenant_id`), found once per model. */
function sqlFiltersOf(model: Model): ReadonlyMap<string, readonly string[]> {
  let found = sqlFilters.get(model);
  if (!found) {
    found = new Map(modelSources(model).filter((s) => s.claimsBound.length > 0).map((s) => [s.cube, s.claimsBound]));
    sqlFilters.set(model, found);
  }
  return found;
}

interface PreparedForAudit {
  readonly queries: readonly {
    readonly query: ValidatedQuery;
    readonly cubeQuery: ValidatedQuery;
    readonly plan: { readonly cubes: readonly string[] };
    readonly compiled: { readonly settings?: { readonly role?: string | undefined } | undefined };
  }[];
}

function filterMembers(nodes: readonly FilterNode[], out: Set<string>): void {
  for (const n of nodes) {
    if (n.kind === 'leaf') out.add(n.member);
    else filterMembers(n.filters, out);
  }
}

/**
 * Cubes read, members named, row filters applied by name (`Orders.sql(tenant_id)` for a model
 * filter on a claim, `Orders.accessPolicy` for policy row filters), and the database role.
 */
export function noteQueries(res: Response, prepared: PreparedForAudit, model: Model): void {
  const record = auditRecordOf(res);
  if (!record) return;
  const cubes = new Set<string>();
  const members = new Set<string>();
  const rowFilters = new Set<string>();
  for (const p of prepared.queries) {
    for (const c of p.plan.cubes) cubes.add(c);
    const q = p.query;
    for (const m of [...q.measures, ...q.dimensions, ...q.segments, ...q.timeDimensions.map((t) => t.dimension)]) members.add(m);
    filterMembers(q.filters, members);
    for (const cube of p.plan.cubes) {
      const claims = sqlFiltersOf(model).get(cube);
      if (claims) rowFilters.add(`${cube}.sql(${claims.join(', ')})`);
    }
    for (const [cube, filters] of Object.entries(p.cubeQuery.securityFilters ?? {})) if (filters.length > 0) rowFilters.add(`${cube}.accessPolicy`);
    // Policy filters the policy stage appended to the query itself, for the cubes that have policies.
    if (p.cubeQuery.filters.length > p.query.filters.length) {
      for (const cube of p.plan.cubes) if ((model.cubes.get(cube)?.accessPolicy?.length ?? 0) > 0) rowFilters.add(`${cube}.accessPolicy`);
    }
    if (p.compiled.settings?.role) record.dbRole = p.compiled.settings.role;
  }
  record.cubes = [...cubes];
  record.members = [...members];
  record.rowFilters = [...new Set([...(record.rowFilters ?? []), ...rowFilters])];
}

/** Adds what the answer held to the request's audit record: its rows and whether the cache served them. */
export function noteResults(res: Response, rows: number | undefined, cache: 'hit' | 'miss' | 'coalesced' | undefined): void {
  const record = auditRecordOf(res);
  if (!record) return;
  if (rows !== undefined) record.rows = rows;
  if (cache !== undefined) record.cache = cache === 'miss' ? 'miss' : 'hit';
}
