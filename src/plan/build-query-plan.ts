/**
 * ResolvedQuery → QueryPlan: chooses the plan shape. A plain aggregate over the join tree; when
 * the tree repeats a cube whose measures would be summed twice, one keyed aggregate per such cube
 * over its distinct keys, merged on the dimensions; with rolling window measures, a series of
 * periods and one window per window definition, merged per period.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Measure, Model } from '../schema/model.js';
import { cubeOf, isBuiltInGranularity, nameOf, type FilterNode, type ValidatedQuery } from '../query/validated-query.js';
import { snakeCase } from '../render/dialects/postgres.js';
import { havingMembers, isMeasureFilter } from './filter-members.js';
import type { Plan } from './join-tree.js';
import { windowFilterRange } from './window-range.js';
import type { AggregateNode, JoinNode, MergeNode, OutputDimension, OutputMeasure, QueryPlan, RowFilter, SeriesNode, SourceNode, WindowNode } from './query-plan.js';

/** Output columns and their aliases (Cube's `cube__member` aliases, unique within 63 bytes). */
export function outputColumns(q: ValidatedQuery): { dimensions: OutputDimension[]; measures: OutputMeasure[] } {
  const used = new Set<string>();
  const unique = (base: string): string => {
    let a = base.slice(0, 60);
    for (let i = 2; used.has(a); i++) a = `${base.slice(0, 56)}_${i}`;
    used.add(a);
    return a;
  };
  const aliasOf = (member: string, suffix = '') => unique(`${snakeCase(cubeOf(member))}__${snakeCase(nameOf(member))}${suffix}`);
  const dimensions: OutputDimension[] = q.dimensions.map((d) => ({ key: d, member: d, alias: aliasOf(d) }));
  for (const td of q.timeDimensions) {
    if (!td.granularity) continue;
    dimensions.push({ key: `${td.dimension}.${td.granularity}`, member: td.dimension, granularity: td.granularity, alias: aliasOf(td.dimension, `_${td.granularity}`) });
  }
  return { dimensions, measures: q.measures.map((m) => ({ member: m, alias: aliasOf(m) })) };
}

const measureOf = (model: Model, member: string): Measure | undefined => model.cubes.get(cubeOf(member))?.measures.get(nameOf(member));

/** A measure of a multiplied cube that a plain aggregate would count twice. */
function needsKeys(m: Measure | undefined, multiplied: readonly string[]): boolean {
  if (!m || !multiplied.includes(m.cube)) return false;
  return !((m.type === 'count' && !m.sql) || m.type === 'countDistinct' || m.type === 'countDistinctApprox');
}

function source(q: ValidatedQuery, cube: string): SourceNode {
  return Object.freeze({ kind: 'source', cube, securityFilters: q.securityFilters?.[cube] ?? [] });
}

export function joinNode(q: ValidatedQuery, tree: Plan): JoinNode {
  return Object.freeze({
    kind: 'join',
    root: source(q, tree.root),
    joins: Object.freeze(tree.joins.map((j) => Object.freeze({ from: j.from, to: j.to, relationship: j.relationship, source: source(q, j.to) }))),
    multiplied: tree.multiplied,
  });
}

/** Row filters of a query: its segments, its time dimensions' date ranges, then its dimension filters. */
function rowFilter(q: ValidatedQuery, dimensionFilters: readonly FilterNode[]): RowFilter {
  const ranges: FilterNode[] = q.timeDimensions.flatMap((td) =>
    td.dateRange ? [{ kind: 'leaf', member: td.dimension, operator: 'inDateRange', values: td.dateRange } as const] : [],
  );
  return Object.freeze({ segments: q.segments, filters: Object.freeze([...ranges, ...dimensionFilters]) });
}

export function buildQueryPlan(model: Model, q: ValidatedQuery, tree: Plan): QueryPlan {
  const { dimensions, measures } = outputColumns(q);
  const having: FilterNode[] = [];
  const dimensionFilters: FilterNode[] = [];
  for (const f of q.filters) (isMeasureFilter(f, model) ? having : dimensionFilters).push(f);
  const join = joinNode(q, tree);
  const where = rowFilter(q, dimensionFilters);
  const base = { dimensions, measures, order: q.order, limit: q.limit, offset: q.offset };

  const hasPeriods = q.timeDimensions.some((t) => t.granularity !== undefined || t.dateRange !== undefined);
  // Without any time dimension to give periods, a rolling window measure aggregates every row, as in Cube.
  const rolling = !q.ungrouped && hasPeriods && q.measures.some((m) => measureOf(model, m)?.rollingWindow !== undefined);
  if (rolling) return Object.freeze({ ...base, root: rollingPlan(model, q, join, dimensions, measures, dimensionFilters, having) });

  if (q.ungrouped && having.length > 0) throw new EngineError('ERR_QUERY_INVALID', 'Measure filters cannot be used in an ungrouped query');
  const keyed = q.ungrouped
    ? []
    : [...new Set([...q.measures, ...havingMembers(having)].filter((m) => needsKeys(measureOf(model, m), tree.multiplied)).map(cubeOf))];
  if (keyed.length === 0) {
    const root: AggregateNode = { kind: 'aggregate', input: join, dimensions, measures, mode: q.ungrouped ? 'ungrouped' : 'grouped', where, having };
    return Object.freeze({ ...base, root: Object.freeze(root) });
  }
  return Object.freeze({ ...base, root: keyedPlan(model, q, join, where, dimensions, measures, having, keyed) });
}

function keyedPlan(
  model: Model,
  q: ValidatedQuery,
  join: JoinNode,
  where: RowFilter,
  dimensions: readonly OutputDimension[],
  measures: readonly OutputMeasure[],
  having: readonly FilterNode[],
  keyed: readonly string[],
): MergeNode {
  // Measures named only by measure filters are computed too, under internal aliases.
  const wanted = [...new Set([...q.measures, ...havingMembers(having).filter((m) => measureOf(model, m) !== undefined)])];
  const alias = new Map(measures.map((m) => [m.member, m.alias]));
  wanted.forEach((m, i) => {
    if (!alias.has(m)) alias.set(m, `__filter_${i}`);
  });
  const out = (list: readonly string[]): OutputMeasure[] => list.map((m) => ({ member: m, alias: alias.get(m) as string }));
  const inputs: AggregateNode[] = [];
  const regular = wanted.filter((m) => !keyed.includes(cubeOf(m)));
  if (regular.length > 0) inputs.push({ kind: 'aggregate', input: join, dimensions, measures: out(regular), mode: 'grouped', where, having: [] });
  for (const cube of keyed) {
    const keys = Object.freeze({ kind: 'distinctKeys' as const, cube, input: join, dimensions, where });
    inputs.push({ kind: 'aggregate', input: keys, dimensions, measures: out(wanted.filter((m) => cubeOf(m) === cube)), mode: 'grouped', where: { segments: [], filters: [] }, having: [] });
  }
  return Object.freeze({ kind: 'merge', how: 'join', inputs: Object.freeze(inputs.map((i) => Object.freeze(i))), dimensions, measures, having, havingAliases: Object.freeze(Object.fromEntries(alias)) });
}

function rollingPlan(
  model: Model,
  q: ValidatedQuery,
  join: JoinNode,
  dimensions: readonly OutputDimension[],
  measures: readonly OutputMeasure[],
  dimensionFilters: readonly FilterNode[],
  having: readonly FilterNode[],
): MergeNode {
  const grouped = q.timeDimensions.filter((t) => t.granularity);
  // Without a granularity the whole dateRange is one window, as in Cube.
  const td = grouped.length > 0 ? grouped[0] : q.timeDimensions.find((t) => t.dateRange);
  if (grouped.length > 1 || !td?.dateRange) {
    throw new EngineError('ERR_QUERY_INVALID', 'A rolling window measure needs exactly one time dimension with a granularity and a dateRange');
  }
  if (having.length > 0) throw new EngineError('ERR_QUERY_INVALID', 'Measure filters cannot be combined with rolling window measures');
  const granularity = td.granularity;
  if (granularity !== undefined && !isBuiltInGranularity(granularity)) {
    throw new EngineError('ERR_QUERY_INVALID', `Rolling window measures with the custom granularity ${granularity} are not supported yet`);
  }
  const seriesAlias = td.granularity ? dimensions.find((d) => d.granularity === td.granularity && d.member === td.dimension)?.alias : undefined;
  const series: SeriesNode = Object.freeze({ kind: 'series', dimension: td.dimension, granularity, dateRange: td.dateRange, alias: seriesAlias });
  const others = dimensions.filter((d) => d.alias !== seriesAlias);
  // The date range drives the series; it must not cut the rows a trailing window reaches back to.
  const where = rowFilter({ ...q, timeDimensions: q.timeDimensions.filter((t) => t !== td) }, dimensionFilters);
  // One window per definition; a measure the join repeats gets a window of its own cube over rows made distinct by its key.
  const groups = new Map<string, { window: Measure['rollingWindow']; measures: OutputMeasure[]; distinctBy?: string }>();
  for (const m of measures) {
    const measure = measureOf(model, m.member);
    const distinctBy = needsKeys(measure, join.multiplied) ? cubeOf(m.member) : undefined;
    const key = `${JSON.stringify(measure?.rollingWindow ?? null)}|${distinctBy ?? ''}`;
    const group = groups.get(key) ?? { window: measure?.rollingWindow, measures: [], distinctBy };
    group.measures.push(m);
    groups.set(key, group);
  }
  const inputs: WindowNode[] = [...groups.values()].map((g) =>
    Object.freeze({
      kind: 'window',
      series,
      input: join,
      window: g.window,
      dimensions: others,
      measures: g.measures,
      allMeasures: measures,
      distinctBy: g.distinctBy,
      where,
      filterParamsRange: windowFilterRange(td.dimension, td.dateRange as readonly [string, string], granularity, g.window, q.timezone),
    }),
  );
  return Object.freeze({ kind: 'merge', how: 'union', inputs: Object.freeze(inputs), dimensions, measures, having: [], havingAliases: {} });
}
