/**
 * The request pipeline after authentication: validate → plan → compile → execute → shape.
 * Each stage hands plain frozen data to the next.
 */
import { EngineError } from '../errors/engine-error.js';
import type { AuthResult } from '../auth/auth-result.js';
import type { Model } from '../schema/model.js';
import type { Database } from '../db/database.js';
import type { Config } from '../config/config.js';
import { decodeQueryParam, parseWireQuery, type WireQuery } from '../query/wire-query.js';
import { validateQuery } from '../query/validate-query.js';
import type { ReadSet, ValidatedQuery } from '../query/validated-query.js';
import { resolveDateRange, canonicalTimezone } from '../query/date-range.js';
import type { Plan } from '../plan/join-tree.js';
import { resolveQuery } from '../query/resolve-query.js';
import { compileQuery, type CompiledQuery } from '../render/compile-query.js';
import { normalizedQuery, shapeResult, type ShapedResult } from '../shape/shape-result.js';
import { sessionSettingsFor } from '../db/rls/run-with-settings.js';
import { refuseUngrantedNames } from '../policy/visible-members.js';

export type QueryType = 'regularQuery' | 'compareDateRangeQuery' | 'blendingQuery';

/** Extension points for policy stages (queryRewrite, access policies), applied in order. */
export interface QueryPolicies {
  /** Runs on the validated query; returns a wire query to validate again (queryRewrite). */
  readonly rewrite?: (query: Record<string, unknown>, auth: AuthResult) => Promise<unknown>;
  /** Adds row filters / denies members (access policies). */
  readonly restrict?: (query: ValidatedQuery, auth: AuthResult, read?: ReadSet) => Promise<ValidatedQuery>;
  /** Members the caller's policies let it name; `undefined` when nothing is policed. */
  readonly visibleMembers?: (auth: AuthResult) => Promise<ReadonlySet<string> | undefined>;
}

export interface PipelineDeps {
  readonly config: Config;
  readonly model: Model;
  readonly db: Database;
  readonly policies?: QueryPolicies | undefined;
  readonly now?: () => number;
}

export interface PreparedQuery {
  /** The query as the caller wrote it (view members stay view members). */
  readonly query: ValidatedQuery;
  /** The query over cube members, with access-policy filters: what was compiled. */
  readonly cubeQuery: ValidatedQuery;
  readonly plan: Plan;
  /** Every cube and view whose rows the query reads (what the policy stage was shown). */
  readonly read: ReadSet;
  readonly compiled: CompiledQuery;
  /** `compareDateRange: "<from> - <to>"` added to each row for compare queries. */
  readonly compareDateRange?: string | undefined;
}

export interface PreparedRequest {
  readonly queryType: QueryType;
  readonly queries: readonly PreparedQuery[];
  readonly pivotQuery: Record<string, unknown>;
}

function expandCompare(wire: WireQuery, defaultTz: string, nowMs: number): { queries: WireQuery[]; ranges: (string | undefined)[] } {
  const tds = wire.timeDimensions ?? [];
  const withCompare = tds.filter((t) => t.compareDateRange);
  if (withCompare.length === 0) return { queries: [wire], ranges: [undefined] };
  if (withCompare.length > 1) {
    throw new EngineError('ERR_QUERY_INVALID', 'compareDateRange can only exist for one timeDimension');
  }
  const target = withCompare[0] as NonNullable<WireQuery['timeDimensions']>[number];
  if (target.dateRange) throw new EngineError('ERR_QUERY_INVALID', 'A time dimension cannot have both dateRange and compareDateRange');
  const zone = canonicalTimezone(wire.timezone ?? defaultTz);
  const queries: WireQuery[] = [];
  const ranges: string[] = [];
  for (const range of target.compareDateRange ?? []) {
    const [from, to] = resolveDateRange(range, zone, nowMs, 'utc');
    ranges.push(`${from} - ${to}`);
    queries.push({
      ...wire,
      timeDimensions: tds.map((t) => (t === target ? { dimension: t.dimension, granularity: t.granularity, dateRange: [from, to] } : t)),
    });
  }
  return { queries, ranges };
}

async function prepareOne(wire: WireQuery, deps: PipelineDeps, auth: AuthResult): Promise<Omit<PreparedQuery, 'compareDateRange'>> {
  const opts = {
    defaultLimit: deps.config.query.defaultLimit,
    maxLimit: deps.config.query.maxLimit,
    defaultTimezone: deps.config.query.defaultTimezone,
    nowMs: deps.now?.(),
  };
  // A member the policies hide is refused before validation can say what kind it is or where it may go.
  const visible = await deps.policies?.visibleMembers?.(auth);
  if (visible) refuseUngrantedNames(wire as unknown as Readonly<Record<string, unknown>>, deps.model, visible);
  let query = validateQuery(wire, deps.model, opts);
  if (deps.policies?.rewrite) {
    const rewritten = await deps.policies.rewrite(normalizedForRewrite(query), auth);
    query = validateQuery(parseWireQuery(rewritten), deps.model, opts);
  }
  // Policies run on cube members, after views are resolved, so a view never bypasses a cube's policy.
  const resolved = await resolveQuery(query, deps.model, auth, deps.policies?.restrict);
  const cubeQuery = resolved.query;
  const plan = resolved.joinTree;
  const compiled = { ...compileQuery(deps.model, cubeQuery, plan, auth.securityContext), settings: sessionSettingsFor(deps.config, auth.securityContext) };
  const rename = (key: string) => resolved.outputKeys.get(key) ?? key;
  const columns = compiled.columns.map((c) => ({ ...c, key: rename(c.key), member: rename(c.member) }));
  return { query, cubeQuery, plan, read: resolved.read, compiled: Object.freeze({ ...compiled, columns: Object.freeze(columns) }) };
}

/** The normalised query in wire form, as `queryRewrite` receives it (order as `[member, dir]` pairs). */
function normalizedForRewrite(q: ValidatedQuery): Record<string, unknown> {
  const { rowLimit: _rowLimit, ...wire } = normalizedQuery(q);
  return { ...wire, order: q.order.map(([id, dir]) => [id, dir]) };
}

/** Decodes the `query` param and runs validate → plan → compile for every query in it. */
export async function prepareRequest(rawQuery: unknown, deps: PipelineDeps, auth: AuthResult): Promise<PreparedRequest> {
  const decoded = decodeQueryParam(rawQuery);
  const nowMs = deps.now?.() ?? Date.now();
  let queryType: QueryType = 'regularQuery';
  let wires: WireQuery[];
  let ranges: (string | undefined)[];
  if (Array.isArray(decoded)) {
    if (decoded.length === 0) throw new EngineError('ERR_QUERY_INVALID', 'A blending query needs at least one query');
    if (decoded.length > 10) throw new EngineError('ERR_QUERY_INVALID', 'A blending query takes at most 10 queries');
    queryType = 'blendingQuery';
    wires = decoded.map((d) => parseWireQuery(d));
    ranges = wires.map(() => undefined);
  } else {
    const wire = parseWireQuery(decoded);
    const expanded = expandCompare(wire, deps.config.query.defaultTimezone, nowMs);
    wires = expanded.queries;
    ranges = expanded.ranges;
    if (expanded.queries.length > 1 || expanded.ranges[0] !== undefined) queryType = 'compareDateRangeQuery';
  }
  const queries: PreparedQuery[] = [];
  for (const [i, wire] of wires.entries()) {
    const prepared = await prepareOne(wire, deps, auth);
    queries.push(Object.freeze({ ...prepared, compareDateRange: ranges[i] }));
  }
  if (queryType === 'blendingQuery') {
    const grans = queries.map((q) => q.query.timeDimensions.find((t) => t.granularity)?.granularity);
    if (grans.some((g) => g === undefined)) throw new EngineError('ERR_QUERY_INVALID', 'Data blending query without granularity is not supported');
    if (new Set(grans).size > 1) throw new EngineError('ERR_QUERY_INVALID', 'Data blending query granularities must match');
  }
  return Object.freeze({ queryType, queries: Object.freeze(queries), pivotQuery: pivotQueryOf(queryType, queries) });
}

function pivotQueryOf(queryType: QueryType, queries: readonly PreparedQuery[]): Record<string, unknown> {
  const first = normalizedQuery((queries[0] as PreparedQuery).query);
  if (queryType === 'blendingQuery') {
    const granularity = queries[0]?.query.timeDimensions.find((t) => t.granularity)?.granularity;
    return {
      ...first,
      measures: [...new Set(queries.flatMap((q) => q.query.measures))],
      dimensions: [...new Set(queries.flatMap((q) => q.query.dimensions))],
      timeDimensions: [{ dimension: 'time', granularity }],
      queryType,
    };
  }
  if (queryType === 'compareDateRangeQuery') {
    return { ...first, dimensions: ['compareDateRange', ...(first.dimensions as string[])], queryType };
  }
  return { ...first, queryType };
}

/** Runs the compiled statements and shapes each result. */
export async function executeRequest(prepared: PreparedRequest, deps: PipelineDeps, auth: AuthResult): Promise<ShapedResult[]> {
  const now = new Date(deps.now?.() ?? Date.now());
  return Promise.all(
    prepared.queries.map(async (p) => {
      const totalPromise = p.query.total
        ? deps.db.query({ ...compileQuery(deps.model, p.cubeQuery, p.plan, auth.securityContext, { forTotal: true }), cubes: p.plan.cubes, settings: p.compiled.settings })
        : undefined;
      const [result, totalResult] = await Promise.all([deps.db.query({ ...p.compiled, cubes: p.plan.cubes }), totalPromise]);
      const total = totalResult ? Number(totalResult.rows[0]?.total_count ?? 0) : null;
      // Cube marks compare rows with their range and gives blended rows a shared `time.<granularity>` key.
      const blend = prepared.queryType === 'blendingQuery' ? p.query.timeDimensions.find((t) => t.granularity) : undefined;
      const decorateRow = (row: Record<string, unknown>): void => {
        if (p.compareDateRange) row.compareDateRange = p.compareDateRange;
        if (blend) row[`time.${blend.granularity}`] = row[`${blend.dimension}.${blend.granularity}`];
      };
      return shapeResult({ q: p.query, model: deps.model, columns: p.compiled.columns, result, total, now, decorateRow });
    }),
  );
}
