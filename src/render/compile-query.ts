/**
 * Plan → SQL: builds the query plan for a resolved query and renders it, with the order, the
 * limit and the output column map. Model snippets are rendered per query so that
 * security-context values bind as parameters.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Model, SecurityContext } from '../schema/model.js';
import type { GranularityName, ValidatedQuery } from '../query/validated-query.js';
import type { CompiledSql } from '../db/database.js';
import type { Plan } from '../plan/join-tree.js';
import { buildQueryPlan } from '../plan/build-query-plan.js';
import type { QueryPlan } from '../plan/query-plan.js';
import { Renderer } from './member-renderer.js';
import { renderStatement } from './render-plan.js';

export interface OutputColumn {
  readonly alias: string;
  /** `Cube.member`, or `Cube.member.granularity` for grouped time dimensions. */
  readonly key: string;
  readonly member: string;
  readonly kind: 'measure' | 'dimension' | 'timeDimension';
  readonly granularity?: GranularityName | undefined;
}

export interface CompiledQuery extends CompiledSql {
  readonly columns: readonly OutputColumn[];
  /** The plan the SQL was rendered from (printable with `printPlan`). */
  readonly plan: QueryPlan;
}

export interface CompileOptions {
  /** Wraps the query in `count(*)` without order, limit and offset (for `total`). */
  readonly forTotal?: boolean;
}

function orderClause(plan: QueryPlan, columns: readonly OutputColumn[]): string {
  if (plan.order.length === 0) return '';
  const items = plan.order.map(([key, dir]) => `${columns.findIndex((c) => c.key === key) + 1} ${dir.toUpperCase()}`);
  return `\nORDER BY ${items.join(', ')}`;
}

function limitClause(plan: QueryPlan): string {
  // limit and offset are integers checked by the query schema, so they are rendered as literals, as Cube does.
  return `\nLIMIT ${Math.trunc(plan.limit)}${plan.offset > 0 ? ` OFFSET ${Math.trunc(plan.offset)}` : ''}`;
}

/** Renders a query plan into a statement with its parameters and output columns. */
export function renderQuery(model: Model, q: ValidatedQuery, plan: QueryPlan, context: SecurityContext, tree: Plan, opts: CompileOptions = {}): CompiledQuery {
  const r = new Renderer(model, q, context, tree.multiplied);
  const joined = tree.cubes;
  const columns: OutputColumn[] = [
    ...plan.dimensions.map((d) => ({
      alias: d.alias,
      key: d.key,
      member: d.member,
      kind: d.granularity ? ('timeDimension' as const) : ('dimension' as const),
      granularity: d.granularity,
    })),
    ...plan.measures.map((m) => ({ alias: m.alias, key: m.member, member: m.member, kind: 'measure' as const })),
  ];
  const [body, used] = r.recordCubes(() => renderStatement(r, model, plan));
  const outside = [...used].filter((c) => !joined.includes(c));
  if (outside.length > 0) {
    // Only SQL whose cube references change with the security context can get here.
    throw new EngineError('ERR_PLAN_UNSUPPORTED', `The query's SQL references ${outside.join(', ')}, which its join tree does not contain`);
  }
  const text = opts.forTotal
    ? `SELECT count(*) AS "total_count" FROM (\n${body}\n) AS "original_query"`
    : `${body}${orderClause(plan, columns)}${limitClause(plan)}`;
  return Object.freeze({ ...r.params.finish(text), columns: Object.freeze(columns), plan });
}

/** Compiles one resolved query over its join tree into SQL plus the output column map. */
export function compileQuery(model: Model, q: ValidatedQuery, tree: Plan, context: SecurityContext, opts: CompileOptions = {}): CompiledQuery {
  return renderQuery(model, q, buildQueryPlan(model, q, tree), context, tree, opts);
}
