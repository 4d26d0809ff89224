/**
 * The compile stage: (ValidatedQuery, Plan, Model, security context) → parameterised SQL.
 * Model snippets are rendered per query so that security-context filters bind real values.
 * One of three SELECT strategies is chosen: plain, keyed (fan-out safe) or rolling windows.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Model, SecurityContext } from '../schema/model.js';
import type { FilterNode, Granularity, ValidatedQuery } from '../query/validated-query.js';
import type { CompiledSql } from '../db/database.js';
import type { Plan } from './join-tree.js';
import { havingMembers, isMeasureFilter } from './filter-members.js';
import { keyedSelect } from './keyed-select.js';
import { cubeOf, nameOf, Renderer, type MeasureMode } from './renderer.js';
import { hasRollingPeriods, rollingSelect } from './rolling-select.js';
import { dimExpr, outputShape, whereParts, type SelectInput } from './select-parts.js';
import { quoteIdentifier } from './sql-text.js';

export interface OutputColumn {
  readonly alias: string;
  /** `Cube.member`, or `Cube.member.granularity` for grouped time dimensions. */
  readonly key: string;
  readonly member: string;
  readonly kind: 'measure' | 'dimension' | 'timeDimension';
  readonly granularity?: Granularity | undefined;
}

export interface CompiledQuery extends CompiledSql {
  readonly columns: readonly OutputColumn[];
}

export interface CompileOptions {
  /** Wraps the query in `count(*)` without order, limit and offset (for `total`). */
  readonly forTotal?: boolean;
}

function orderClause(q: ValidatedQuery, columns: readonly OutputColumn[]): string {
  if (q.order.length === 0) return '';
  const items = q.order.map(([key, dir]) => `${columns.findIndex((c) => c.key === key) + 1} ${dir.toUpperCase()}`);
  return `\nORDER BY ${items.join(', ')}`;
}

function limitClause(q: ValidatedQuery): string {
  // limit and offset are integers checked by the query schema, so they are rendered as literals, as Cube does.
  return `\nLIMIT ${Math.trunc(q.limit)}${q.offset > 0 ? ` OFFSET ${Math.trunc(q.offset)}` : ''}`;
}

/** Measures of a multiplied cube that a plain aggregate would double count. */
function needsKeys(model: Model, plan: Plan, measure: string): boolean {
  const cube = cubeOf(measure);
  if (!plan.multiplied.includes(cube)) return false;
  const m = model.cubes.get(cube)?.measures.get(nameOf(measure));
  if (!m) return false;
  return !((m.type === 'count' && !m.sql) || m.type === 'countDistinct' || m.type === 'countDistinctApprox');
}

/** Compiles one validated query into SQL plus the output column map. */
export function compileQuery(
  model: Model,
  q: ValidatedQuery,
  plan: Plan,
  context: SecurityContext,
  opts: CompileOptions = {},
): CompiledQuery {
  const r = new Renderer(model, q, context, plan.multiplied);
  const shape = outputShape(q);
  const columns: OutputColumn[] = [
    ...shape.dims.map((d) => ({
      alias: d.alias,
      key: d.key,
      member: d.member,
      kind: d.granularity ? ('timeDimension' as const) : ('dimension' as const),
      granularity: d.granularity,
    })),
    ...shape.measures.map((m) => ({ alias: m.alias, key: m.member, member: m.member, kind: 'measure' as const })),
  ];

  const havingFilters: FilterNode[] = [];
  const whereFilters: FilterNode[] = [];
  for (const f of q.filters) (isMeasureFilter(f, model) ? havingFilters : whereFilters).push(f);
  const input: SelectInput = { r, q, model, plan, shape, whereFilters, havingFilters };

  // Without any time dimension to give periods, a rolling window measure aggregates every row, as in Cube.
  const rolling = !q.ungrouped && hasRollingPeriods(q) && q.measures.some((m) => model.cubes.get(cubeOf(m))?.measures.get(nameOf(m))?.rollingWindow !== undefined);
  const keyed = q.ungrouped || rolling
    ? []
    : [...new Set([...q.measures, ...havingMembers(havingFilters)].filter((m) => needsKeys(model, plan, m)).map(cubeOf))];
  const body = rolling ? rollingSelect(input) : keyed.length > 0 ? keyedSelect(input, keyed) : simpleSelect(input);
  const text = opts.forTotal
    ? `SELECT count(*) AS "total_count" FROM (\n${body}\n) AS "original_query"`
    : `${body}${orderClause(q, columns)}${limitClause(q)}`;
  return Object.freeze({ ...r.params.finish(text), columns: Object.freeze(columns) });
}

function simpleSelect(input: SelectInput): string {
  const { r, q, model, plan, shape, whereFilters, havingFilters } = input;
  if (q.ungrouped && havingFilters.length > 0) {
    throw new EngineError('ERR_QUERY_INVALID', 'Measure filters cannot be used in an ungrouped query');
  }
  const mode: MeasureMode = q.ungrouped ? 'ungrouped' : 'aggregate';
  const select = [
    ...shape.dims.map((d) => ({ expr: dimExpr(r, d, model), alias: d.alias })),
    ...shape.measures.map((m) => ({
      expr: r.memberSql(cubeOf(m.member), nameOf(m.member), plan.multiplied.includes(cubeOf(m.member)) && mode === 'aggregate' ? 'distinct-safe' : mode),
      alias: m.alias,
    })),
  ];
  const where = whereParts(r, q, whereFilters);
  let sql = `SELECT\n  ${select.map((s) => `${s.expr} AS ${quoteIdentifier(s.alias)}`).join(',\n  ')}\nFROM ${r.from(plan)}`;
  if (where.length > 0) sql += `\nWHERE ${where.join('\n  AND ')}`;
  if (!q.ungrouped && shape.dims.length > 0) sql += `\nGROUP BY ${shape.dims.map((_d, i) => i + 1).join(', ')}`;
  if (havingFilters.length > 0) sql += `\nHAVING ${havingFilters.map((f) => r.filterSql(f)).join(' AND ')}`;
  return sql;
}
