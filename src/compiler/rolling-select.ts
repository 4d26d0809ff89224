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

export function rollingSelect(input: SelectInput): string {
  const { r, q, model, plan, shape, whereFilters, havingFilters } = input;
  const grouped = q.timeDimensions.filter((t) => t.granularity);
  const td = grouped[0];
  if (grouped.length !== 1 || !td?.granularity || !td.dateRange) {
    throw new EngineError('ERR_QUERY_INVALID', 'A rolling window measure needs exactly one time dimension with a granularity and a dateRange');
  }
  if (havingFilters.length > 0) throw new EngineError('ERR_QUERY_INVALID', 'Measure filters cannot be combined with rolling window measures');
  const granularity = td.granularity;
  const interval = GRANULARITY_INTERVAL[granularity];
  const series =
    `(SELECT "d" AS "date_from", "d" + interval '${interval}' - interval '1 millisecond' AS "date_to" ` +
    `FROM generate_series(date_trunc('${granularity}', ${r.params.add(td.dateRange[0])}::timestamp), ${r.params.add(td.dateRange[1])}::timestamp, interval '${interval}') AS "d") AS "series"`;
  const time = `(${r.memberSql(cubeOf(td.dimension), nameOf(td.dimension), 'aggregate')})::timestamptz`;
  const tdAlias = shape.dims.find((d) => d.granularity === granularity && d.member === td.dimension)?.alias as string;
  const otherDims = shape.dims.filter((d) => d.alias !== tdAlias);
  // The date range drives the series; it must not cut the rows a trailing window reaches back to.
  const rowQuery: ValidatedQuery = { ...q, timeDimensions: q.timeDimensions.filter((t) => t !== td) };
  const groups = new Map<string, { window: Measure['rollingWindow']; measures: string[] }>();
  for (const m of shape.measures) {
    const measure = model.cubes.get(cubeOf(m.member))?.measures.get(nameOf(m.member));
    const key = JSON.stringify(measure?.rollingWindow ?? null);
    const group = groups.get(key) ?? { window: measure?.rollingWindow, measures: [] };
    group.measures.push(m.member);
    groups.set(key, group);
  }
  const keys = [quoteIdentifier(tdAlias), ...otherDims.map((d) => quoteIdentifier(d.alias))];
  const parts = [...groups.values()].map((g) => {
    const conds = [windowCondition(r, time, g.window), ...whereParts(r, rowQuery, whereFilters)];
    const select = [
      `"series"."date_from" AS ${quoteIdentifier(tdAlias)}`,
      ...otherDims.map((d) => `${dimExpr(r, d, model)} AS ${quoteIdentifier(d.alias)}`),
      ...shape.measures.map((m) => {
        const expr = r.memberSql(cubeOf(m.member), nameOf(m.member), plan.multiplied.includes(cubeOf(m.member)) ? 'distinct-safe' : 'aggregate');
        // Other windows' measures are NULL of the measure's own type, so UNION ALL can match the columns.
        return `${g.measures.includes(m.member) ? expr : `CASE WHEN false THEN ${expr} END`} AS ${quoteIdentifier(m.alias)}`;
      }),
    ];
    const rows = plan.joins.length > 0 ? `(${r.from(plan)})` : r.from(plan);
    return `SELECT ${select.join(', ')} FROM ${series} LEFT JOIN ${rows} ON ${conds.join(' AND ')} GROUP BY ${keys.map((_k, i) => i + 1).join(', ')}`;
  });
  const outer = [...keys.map((k) => `${k} AS ${k}`), ...shape.measures.map((m) => `(array_agg(${quoteIdentifier(m.alias)}) FILTER (WHERE ${quoteIdentifier(m.alias)} IS NOT NULL))[1] AS ${quoteIdentifier(m.alias)}`)];
  const ordered = [...shape.dims.map((d) => quoteIdentifier(d.alias))];
  return `SELECT ${ordered.concat(shape.measures.map((m) => quoteIdentifier(m.alias))).join(', ')} FROM (SELECT ${outer.join(', ')} FROM (${parts.join('\nUNION ALL\n')}) AS "windows" GROUP BY ${keys.map((_k, i) => i + 1).join(', ')}) AS "rolled"`;
}
