/**
 * Rolling windows: a series of periods over the date range drives the query; each window
 * kind is aggregated over the rows inside it, and the parts are merged per period.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Measure } from '../schema/model.js';
import { GRANULARITY_INTERVAL, type ValidatedQuery } from '../query/validated-query.js';
import { cubeOf, nameOf, type Renderer } from './renderer.js';
import { dimExpr, whereParts, type SelectInput } from './select-parts.js';
import { quoteIdentifier } from './sql-text.js';

/**
 * The join condition that puts a row inside one series period's window (Cube's
 * rollingWindowDateJoinCondition). Bounds are computed on the period's local time and then
 * turned into instants, so the time column is compared as it is stored and its index can serve.
 */
function windowCondition(r: Renderer, column: string, window: Measure['rollingWindow']): string {
  const from = '"series"."date_from"';
  const to = '"series"."date_to"';
  const at = (local: string) => `(${local}) AT TIME ZONE ${r.tz()}`;
  if (!window) return `${column} >= ${at(from)} AND ${column} <= ${at(to)}`;
  if (window.type && window.type !== 'fixed') {
    const unit = window.type === 'to_date' ? window.granularity : window.type.replace('_to_date', '');
    if (!unit || !(unit in GRANULARITY_INTERVAL)) {
      throw new EngineError('ERR_PLAN_UNSUPPORTED', `A to_date rolling window needs a granularity such as month`);
    }
    return `${column} >= ${at(`date_trunc('${unit}', ${from})`)} AND ${column} <= ${at(to)}`;
  }
  const offset = window.offset ?? 'end';
  const parts: string[] = [];
  if (window.trailing !== 'unbounded') {
    const start = offset === 'start' ? from : to;
    const bound = window.trailing ? `${start} - ${r.params.add(window.trailing)}::interval` : start;
    parts.push(`${column} ${offset === 'start' ? '>=' : '>'} ${at(bound)}`);
  }
  if (window.leading !== 'unbounded') {
    const end = offset === 'end' ? to : from;
    const bound = window.leading ? `${end} + ${r.params.add(window.leading)}::interval` : end;
    parts.push(`${column} ${offset === 'end' ? '<=' : '<'} ${at(bound)}`);
  }
  return parts.length > 0 ? parts.join(' AND ') : '1 = 1';
}

/** How a measure aggregates its per-row values once the rows are deduplicated by primary key. */
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

/** Is this measure repeated by the join tree so that a plain aggregate would count rows twice? */
function needsDistinctRows(m: Measure | undefined, multiplied: readonly string[]): boolean {
  if (!m || !multiplied.includes(m.cube)) return false;
  return !((m.type === 'count' && !m.sql) || m.type === 'countDistinct' || m.type === 'countDistinctApprox');
}

/** True when some time dimension gives rolling windows their periods (a granularity with a dateRange, or a dateRange alone). */
export function hasRollingPeriods(q: ValidatedQuery): boolean {
  return q.timeDimensions.some((t) => t.granularity !== undefined || t.dateRange !== undefined);
}

export function rollingSelect(input: SelectInput): string {
  const { r, q, model, plan, shape, whereFilters, havingFilters } = input;
  const grouped = q.timeDimensions.filter((t) => t.granularity);
  // Without a granularity the whole dateRange is one window, as in Cube.
  const td = grouped.length > 0 ? grouped[0] : q.timeDimensions.find((t) => t.dateRange);
  if (grouped.length > 1 || !td?.dateRange) {
    throw new EngineError('ERR_QUERY_INVALID', 'A rolling window measure needs exactly one time dimension with a granularity and a dateRange');
  }
  if (havingFilters.length > 0) throw new EngineError('ERR_QUERY_INVALID', 'Measure filters cannot be combined with rolling window measures');
  const granularity = td.granularity;
  const series = granularity
    ? `(SELECT "d" AS "date_from", "d" + interval '${GRANULARITY_INTERVAL[granularity]}' - interval '1 millisecond' AS "date_to" ` +
      `FROM generate_series(date_trunc('${granularity}', ${r.params.add(td.dateRange[0])}::timestamp), ${r.params.add(td.dateRange[1])}::timestamp, interval '${GRANULARITY_INTERVAL[granularity]}') AS "d") AS "series"`
    : `(SELECT ${r.params.add(td.dateRange[0])}::timestamp AS "date_from", ${r.params.add(td.dateRange[1])}::timestamp AS "date_to") AS "series"`;
  const time = `(${r.memberSql(cubeOf(td.dimension), nameOf(td.dimension), 'aggregate')})::timestamptz`;
  const tdAlias = granularity ? shape.dims.find((d) => d.granularity === granularity && d.member === td.dimension)?.alias : undefined;
  const otherDims = shape.dims.filter((d) => d.alias !== tdAlias);
  // The date range drives the series; it must not cut the rows a trailing window reaches back to.
  const rowQuery: ValidatedQuery = { ...q, timeDimensions: q.timeDimensions.filter((t) => t !== td) };
  // One part per window; a measure the join tree repeats gets a part of its own cube over rows deduplicated by its primary key.
  const groups = new Map<string, { window: Measure['rollingWindow']; measures: string[]; distinctCube?: string }>();
  for (const m of shape.measures) {
    const measure = model.cubes.get(cubeOf(m.member))?.measures.get(nameOf(m.member));
    const distinctCube = needsDistinctRows(measure, plan.multiplied) ? cubeOf(m.member) : undefined;
    const key = `${JSON.stringify(measure?.rollingWindow ?? null)}|${distinctCube ?? ''}`;
    const group = groups.get(key) ?? { window: measure?.rollingWindow, measures: [], distinctCube };
    group.measures.push(m.member);
    groups.set(key, group);
  }
  const keys = [...(tdAlias ? [quoteIdentifier(tdAlias)] : []), ...otherDims.map((d) => quoteIdentifier(d.alias))];
  const groupBy = keys.length > 0 ? ` GROUP BY ${keys.map((_k, i) => i + 1).join(', ')}` : '';
  const seriesColumn = tdAlias ? [`"series"."date_from" AS ${quoteIdentifier(tdAlias)}`] : [];
  const parts = [...groups.values()].map((g) => {
    const where = whereParts(r, rowQuery, whereFilters);
    if (g.distinctCube !== undefined) return distinctRowsPart(input, g.distinctCube, g.measures, g.window, { series, time, where, seriesColumn, otherDims, groupBy });
    const conds = [windowCondition(r, time, g.window), ...where];
    const select = [
      ...seriesColumn,
      ...otherDims.map((d) => `${dimExpr(r, d, model)} AS ${quoteIdentifier(d.alias)}`),
      ...shape.measures.map((m) => {
        const expr = r.memberSql(cubeOf(m.member), nameOf(m.member), plan.multiplied.includes(cubeOf(m.member)) ? 'distinct-safe' : 'aggregate');
        // Other windows' measures are NULL of the measure's own type, so UNION ALL can match the columns.
        return `${g.measures.includes(m.member) ? expr : `CASE WHEN false THEN ${expr} END`} AS ${quoteIdentifier(m.alias)}`;
      }),
    ];
    const rows = plan.joins.length > 0 ? `(${r.from(plan)})` : r.from(plan);
    return `SELECT ${select.join(', ')} FROM ${series} LEFT JOIN ${rows} ON ${conds.join(' AND ')}${groupBy}`;
  });
  const outer = [...keys.map((k) => `${k} AS ${k}`), ...shape.measures.map((m) => `(array_agg(${quoteIdentifier(m.alias)}) FILTER (WHERE ${quoteIdentifier(m.alias)} IS NOT NULL))[1] AS ${quoteIdentifier(m.alias)}`)];
  const ordered = [...shape.dims.map((d) => quoteIdentifier(d.alias))];
  return `SELECT ${ordered.concat(shape.measures.map((m) => quoteIdentifier(m.alias))).join(', ')} FROM (SELECT ${outer.join(', ')} FROM (${parts.join('\nUNION ALL\n')}) AS "windows"${groupBy}) AS "rolled"`;
}

interface PartFrame {
  readonly series: string;
  readonly time: string;
  readonly where: readonly string[];
  readonly seriesColumn: readonly string[];
  readonly otherDims: SelectInput['shape']['dims'];
  readonly groupBy: string;
}

/**
 * A window part for measures of a cube the join tree repeats: the rows are first reduced to one per
 * (primary key, dimensions), as Cube's keys subquery does, then each window aggregates those rows.
 */
function distinctRowsPart(input: SelectInput, cube: string, mine: readonly string[], window: Measure['rollingWindow'], f: PartFrame): string {
  const { r, model, plan, shape } = input;
  const pk = r.primaryKeySql(cube);
  if (!pk) throw new EngineError('ERR_PLAN_UNSUPPORTED', `Cube ${cube} needs a primary key to aggregate measures across a one-to-many join`);
  const values = mine.map((m, i) => ({ m, alias: `__v_${i}`, measure: model.cubes.get(cubeOf(m))?.measures.get(nameOf(m)) as Measure }));
  const rowSelect = [
    `${pk} AS "__pk"`,
    `${f.time} AS "__time"`,
    ...f.otherDims.map((d) => `${dimExpr(r, d, model)} AS ${quoteIdentifier(d.alias)}`),
    ...values.map((v) => `${r.memberSql(cube, nameOf(v.m), 'ungrouped')} AS ${quoteIdentifier(v.alias)}`),
  ];
  let rows = `SELECT DISTINCT ${rowSelect.join(', ')} FROM ${r.from(plan)}`;
  if (f.where.length > 0) rows += ` WHERE ${f.where.join(' AND ')}`;
  const select = [
    ...f.seriesColumn,
    ...f.otherDims.map((d) => `"rows".${quoteIdentifier(d.alias)} AS ${quoteIdentifier(d.alias)}`),
    ...shape.measures.map((m) => {
      const v = values.find((x) => x.m === m.member);
      return `${v ? aggregateOfRows(v.measure, `"rows".${quoteIdentifier(v.alias)}`) : 'NULL'} AS ${quoteIdentifier(m.alias)}`;
    }),
  ];
  return `SELECT ${select.join(', ')} FROM ${f.series} LEFT JOIN (${rows}) AS "rows" ON ${windowCondition(r, '"rows"."__time"', window)}${f.groupBy}`;
}
