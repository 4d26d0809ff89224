/**
 * The renderer: walks a QueryPlan with one visitor per node kind and writes PostgreSQL through
 * the dialect and the member renderer (model SQL, parameters). It decides nothing about the
 * plan's shape; every cube's source, and so its security filters, comes from a source node.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Measure, Model } from '../schema/model.js';
import { cubeOf, nameOf, type FilterNode } from '../query/validated-query.js';
import type {
  AggregateNode,
  DistinctKeysNode,
  JoinNode,
  MergeNode,
  OutputDimension,
  PlanNodeKind,
  QueryPlan,
  RowFilter,
  SeriesNode,
  WindowNode,
} from '../plan/query-plan.js';
import type { MeasureMode, Renderer } from './member-renderer.js';

interface Scope {
  readonly r: Renderer;
  readonly model: Model;
  /** The outermost statement is laid out one column per line. */
  readonly top: boolean;
}

const q = (r: Renderer, name: string) => r.dialect.quoteIdentifier(name);

function whereSql(s: Scope, w: RowFilter): string[] {
  const parts: string[] = [];
  for (const name of w.segments) {
    const seg = s.r.cube(cubeOf(name)).segments.get(nameOf(name));
    if (seg) parts.push(`(${s.r.renderOwn(seg.cube, seg.sql)})`);
  }
  for (const f of w.filters) parts.push(s.r.filterSql(f));
  return parts;
}

function dimensionSql(s: Scope, d: OutputDimension): string {
  const dim = s.model.cubes.get(cubeOf(d.member))?.dimensions.get(nameOf(d.member));
  if (d.granularity || dim?.type === 'time') return s.r.timeExpr(d.member, d.granularity);
  return s.r.memberSql(cubeOf(d.member), nameOf(d.member), 'aggregate');
}

const measureOf = (s: Scope, member: string): Measure | undefined => s.model.cubes.get(cubeOf(member))?.measures.get(nameOf(member));

/** A multiplied cube's count without sql counts distinct keys; everything else aggregates as written. */
function measureMode(join: JoinNode, member: string, grouped: boolean): MeasureMode {
  if (!grouped) return 'ungrouped';
  return join.multiplied.includes(cubeOf(member)) ? 'distinct-safe' : 'aggregate';
}

function groupBy(count: number): string {
  return count > 0 ? ` GROUP BY ${Array.from({ length: count }, (_x, i) => i + 1).join(', ')}` : '';
}

function renderJoin(s: Scope, node: JoinNode): string {
  return s.r.fromJoin(node);
}

function renderDistinctKeys(s: Scope, node: DistinctKeysNode): string {
  const pk = s.r.primaryKeySql(node.cube);
  if (!pk) throw new EngineError('ERR_PLAN_UNSUPPORTED', `Cube ${node.cube} needs a primary key to aggregate measures across a one-to-many join`);
  const select = [...node.dimensions.map((d) => `${dimensionSql(s, d)} AS ${q(s.r, d.alias)}`), `${pk} AS "__pk"`];
  const where = whereSql(s, node.where);
  return `SELECT DISTINCT ${select.join(', ')} FROM ${renderJoin(s, node.input)}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

function renderAggregate(s: Scope, node: AggregateNode): string {
  const { r } = s;
  if (node.input.kind === 'distinctKeys') {
    const keys = node.input;
    const pk = r.primaryKeySql(keys.cube) as string;
    const keysSql = renderDistinctKeys(s, keys);
    const select = [
      ...node.dimensions.map((d) => `"keys".${q(r, d.alias)} AS ${q(r, d.alias)}`),
      ...node.measures.map((m) => `${r.memberSql(keys.cube, nameOf(m.member), 'aggregate')} AS ${q(r, m.alias)}`),
    ];
    return `SELECT ${select.join(', ')} FROM (${keysSql}) AS "keys" LEFT JOIN ${r.source(keys.cube)} ON "keys"."__pk" = ${pk}${groupBy(node.dimensions.length)}`;
  }
  const join = node.input;
  const grouped = node.mode === 'grouped';
  const select = [
    ...node.dimensions.map((d) => ({ expr: dimensionSql(s, d), alias: d.alias })),
    ...node.measures.map((m) => ({ expr: r.memberSql(cubeOf(m.member), nameOf(m.member), measureMode(join, m.member, grouped)), alias: m.alias })),
  ];
  const where = whereSql(s, node.where);
  if (!s.top) {
    let sql = `SELECT ${select.map((c) => `${c.expr} AS ${q(r, c.alias)}`).join(', ')} FROM ${renderJoin(s, join)}`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    return sql + (grouped ? groupBy(node.dimensions.length) : '');
  }
  let sql = `SELECT\n  ${select.map((c) => `${c.expr} AS ${q(r, c.alias)}`).join(',\n  ')}\nFROM ${renderJoin(s, join)}`;
  if (where.length > 0) sql += `\nWHERE ${where.join('\n  AND ')}`;
  if (grouped && node.dimensions.length > 0) sql += `\nGROUP BY ${node.dimensions.map((_d, i) => i + 1).join(', ')}`;
  if (node.having.length > 0) sql += `\nHAVING ${node.having.map((f) => r.filterSql(f)).join(' AND ')}`;
  return sql;
}

/** NULL-safe equality of one dimension in two parts, as two plain equalities PostgreSQL can hash-join. */
function mergeKeyEquals(s: Scope, left: string, right: string, d: OutputDimension): string {
  const type = d.granularity ? 'time' : (s.model.cubes.get(cubeOf(d.member))?.dimensions.get(nameOf(d.member))?.type ?? 'string');
  const l = `${left}.${q(s.r, d.alias)}`;
  const rr = `${right}.${q(s.r, d.alias)}`;
  const sentinel = s.r.dialect.mergeSentinel[type];
  return `COALESCE(${l}, ${sentinel}) = COALESCE(${rr}, ${sentinel}) AND (${l} IS NULL) = (${rr} IS NULL)`;
}

function renderMerge(s: Scope, node: MergeNode): string {
  return node.how === 'join' ? renderJoinMerge(s, node) : renderUnionMerge(s, node);
}

function renderJoinMerge(s: Scope, node: MergeNode): string {
  const { r } = s;
  const inner: Scope = { ...s, top: false };
  const parts = node.inputs.map((i) => ({ sql: i.kind === 'aggregate' ? renderAggregate(inner, i) : renderWindow(inner, i), members: i.measures.map((m) => m.member) }));
  const names = parts.map((_p, i) => q(r, `q_${i}`));
  const first = names[0] as string;
  const from = parts
    .map((p, i) => {
      if (i === 0) return `(${p.sql}) AS ${first}`;
      const on = node.dimensions.length > 0 ? node.dimensions.map((d) => mergeKeyEquals(s, first, names[i] as string, d)).join(' AND ') : '1 = 1';
      return `INNER JOIN (${p.sql}) AS ${names[i]} ON ${on}`;
    })
    .join('\n');
  const owner = (member: string) => names[parts.findIndex((p) => p.members.includes(member))] as string;
  const outer = [
    ...node.dimensions.map((d) => `${first}.${q(r, d.alias)} AS ${q(r, d.alias)}`),
    ...node.measures.map((m) => `${owner(m.member)}.${q(r, m.alias)} AS ${q(r, m.alias)}`),
  ];
  let sql = `SELECT\n  ${outer.join(',\n  ')}\nFROM ${from}`;
  if (node.having.length > 0) {
    const having = node.having.map((f: FilterNode) => r.filterSql(f, (leaf) => `${owner(leaf.member)}.${q(r, node.havingAliases[leaf.member] as string)}`));
    sql += `\nWHERE ${having.join(' AND ')}`;
  }
  return sql;
}

function renderSeries(s: Scope, node: SeriesNode): string {
  const { r } = s;
  const d = r.dialect;
  const from = d.timestampParam(r.params.add(node.dateRange[0]));
  const to = d.timestampParam(r.params.add(node.dateRange[1]));
  if (!node.granularity) return `(SELECT ${from} AS "date_from", ${to} AS "date_to") AS "series"`;
  return `(SELECT "d" AS "date_from", "d" + ${d.granularityInterval(node.granularity)} - interval '1 millisecond' AS "date_to" FROM ${d.periodSeries(node.granularity, from, to)}) AS "series"`;
}

/**
 * The condition that puts a row inside one period's window (Cube's rollingWindowDateJoinCondition).
 * Bounds are computed on the period's local time and turned into instants, so the time column is
 * compared as it is stored and its index can serve.
 */
function windowCondition(s: Scope, column: string, window: Measure['rollingWindow']): string {
  const { r } = s;
  const d = r.dialect;
  const from = '"series"."date_from"';
  const to = '"series"."date_to"';
  const at = (local: string) => d.localToInstant(local, r.tz());
  if (!window) return `${column} >= ${at(from)} AND ${column} <= ${at(to)}`;
  if (window.type && window.type !== 'fixed') {
    const unit = window.type === 'to_date' ? window.granularity : window.type.replace('_to_date', '');
    if (unit !== 'year' && unit !== 'quarter' && unit !== 'month' && unit !== 'week' && unit !== 'day' && unit !== 'hour' && unit !== 'minute' && unit !== 'second') {
      throw new EngineError('ERR_PLAN_UNSUPPORTED', 'A to_date rolling window needs a granularity such as month');
    }
    return `${column} >= ${at(d.dateTrunc(unit, from))} AND ${column} <= ${at(to)}`;
  }
  const offset = window.offset ?? 'end';
  const parts: string[] = [];
  if (window.trailing !== 'unbounded') {
    const start = offset === 'start' ? from : to;
    const bound = window.trailing ? `${start} - ${d.intervalParam(r.params.add(window.trailing))}` : start;
    parts.push(`${column} ${offset === 'start' ? '>=' : '>'} ${at(bound)}`);
  }
  if (window.leading !== 'unbounded') {
    const end = offset === 'end' ? to : from;
    const bound = window.leading ? `${end} + ${d.intervalParam(r.params.add(window.leading))}` : end;
    parts.push(`${column} ${offset === 'end' ? '<=' : '<'} ${at(bound)}`);
  }
  return parts.length > 0 ? parts.join(' AND ') : '1 = 1';
}

/** How a measure aggregates per-row values once rows are distinct by primary key. */
function aggregateOfRows(m: Measure, value: string): string {
  switch (m.type) {
    case 'count':
      return `count(${value})`;
    case 'countDistinct':
    case 'countDistinctApprox':
      return `count(DISTINCT ${value})`;
    case 'sum':
    case 'avg':
    case 'min':
    case 'max':
      return `${m.type}(${value})`;
    default:
      throw new EngineError('ERR_PLAN_UNSUPPORTED', `The rolling window measure ${m.cube}.${m.name} of type ${m.type} cannot be computed across a one-to-many join`);
  }
}

function timeColumn(s: Scope, node: WindowNode): string {
  return `(${s.r.memberSql(cubeOf(node.series.dimension), nameOf(node.series.dimension), 'aggregate')})::timestamptz`;
}

function renderWindow(s: Scope, node: WindowNode): string {
  const { r } = s;
  const series = renderSeries(s, node.series);
  const seriesColumn = node.series.alias ? [`"series"."date_from" AS ${q(r, node.series.alias)}`] : [];
  const keyCount = (node.series.alias ? 1 : 0) + node.dimensions.length;
  const time = timeColumn(s, node);
  if (node.distinctBy !== undefined) {
    const cube = node.distinctBy;
    const pk = r.primaryKeySql(cube);
    if (!pk) throw new EngineError('ERR_PLAN_UNSUPPORTED', `Cube ${cube} needs a primary key to aggregate measures across a one-to-many join`);
    const values = node.measures.map((m, i) => ({ m, alias: `__v_${i}`, measure: measureOf(s, m.member) as Measure }));
    const rowSelect = [
      `${pk} AS "__pk"`,
      `${time} AS "__time"`,
      ...node.dimensions.map((d) => `${dimensionSql(s, d)} AS ${q(r, d.alias)}`),
      ...values.map((v) => `${r.memberSql(cube, nameOf(v.m.member), 'ungrouped')} AS ${q(r, v.alias)}`),
    ];
    const where = whereSql(s, node.where);
    const rows = `SELECT DISTINCT ${rowSelect.join(', ')} FROM ${renderJoin(s, node.input)}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
    const select = [
      ...seriesColumn,
      ...node.dimensions.map((d) => `"rows".${q(r, d.alias)} AS ${q(r, d.alias)}`),
      ...node.allMeasures.map((m) => {
        const v = values.find((x) => x.m.member === m.member);
        return `${v ? aggregateOfRows(v.measure, `"rows".${q(r, v.alias)}`) : 'NULL'} AS ${q(r, m.alias)}`;
      }),
    ];
    return `SELECT ${select.join(', ')} FROM ${series} LEFT JOIN (${rows}) AS "rows" ON ${windowCondition(s, '"rows"."__time"', node.window)}${groupBy(keyCount)}`;
  }
  const conds = [windowCondition(s, time, node.window), ...whereSql(s, node.where)];
  const mine = new Set(node.measures.map((m) => m.member));
  const select = [
    ...seriesColumn,
    ...node.dimensions.map((d) => `${dimensionSql(s, d)} AS ${q(r, d.alias)}`),
    ...node.allMeasures.map((m) => {
      const expr = r.memberSql(cubeOf(m.member), nameOf(m.member), measureMode(node.input, m.member, true));
      // Other windows' measures are NULL of the measure's own type, so UNION ALL can match the columns.
      return `${mine.has(m.member) ? expr : `CASE WHEN false THEN ${expr} END`} AS ${q(r, m.alias)}`;
    }),
  ];
  const rows = node.input.joins.length > 0 ? `(${renderJoin(s, node.input)})` : renderJoin(s, node.input);
  return `SELECT ${select.join(', ')} FROM ${series} LEFT JOIN ${rows} ON ${conds.join(' AND ')}${groupBy(keyCount)}`;
}

function renderUnionMerge(s: Scope, node: MergeNode): string {
  const { r } = s;
  const inner: Scope = { ...s, top: false };
  const parts = node.inputs.map((i) => (i.kind === 'window' ? renderWindow(inner, i) : renderAggregate(inner, i)));
  const first = node.inputs[0];
  const seriesAlias = first?.kind === 'window' ? first.series.alias : undefined;
  const keys = [...(seriesAlias ? [q(r, seriesAlias)] : []), ...node.dimensions.filter((d) => d.alias !== seriesAlias).map((d) => q(r, d.alias))];
  const outer = [...keys.map((k) => `${k} AS ${k}`), ...node.measures.map((m) => `${r.dialect.firstNonNull(q(r, m.alias))} AS ${q(r, m.alias)}`)];
  const ordered = [...node.dimensions.map((d) => q(r, d.alias)), ...node.measures.map((m) => q(r, m.alias))];
  return `SELECT ${ordered.join(', ')} FROM (SELECT ${outer.join(', ')} FROM (${parts.join('\nUNION ALL\n')}) AS "windows"${groupBy(keys.length)}) AS "rolled"`;
}

/** One entry per node kind that can stand as a statement, so a new kind without a renderer fails to compile. */
const STATEMENT: Record<Extract<PlanNodeKind, 'aggregate' | 'merge'>, (s: Scope, node: never) => string> = {
  aggregate: renderAggregate as (s: Scope, node: never) => string,
  merge: renderMerge as (s: Scope, node: never) => string,
};

/** Renders the plan's statement (without order and limit). */
export function renderStatement(r: Renderer, model: Model, plan: QueryPlan): string {
  return STATEMENT[plan.root.kind]({ r, model, top: true }, plan.root as never);
}
