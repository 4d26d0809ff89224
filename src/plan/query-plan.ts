/**
 * The query plan: a small tree of plain, frozen nodes that says how a resolved query is
 * computed. Fan-out handling (distinct keys), rolling windows (series + window) and the
 * merging of their parts are plan shapes; the renderer walks the tree and only writes SQL.
 */
import type { RollingWindow } from '../schema/model.js';
import type { FilterNode, Granularity, GranularityName, LeafFilter } from '../query/validated-query.js';

/** A selected dimension (or time dimension at a granularity) and its SQL alias. */
export interface OutputDimension {
  /** The response key: `Cube.member` or `Cube.member.granularity`. */
  readonly key: string;
  readonly member: string;
  readonly granularity?: GranularityName | undefined;
  readonly alias: string;
}

export interface OutputMeasure {
  readonly member: string;
  readonly alias: string;
}

/** What restricts rows: segments and row filters (date ranges included), ANDed. */
export interface RowFilter {
  readonly segments: readonly string[];
  readonly filters: readonly FilterNode[];
}

/** A cube's FROM item; its security filters are applied inside it. */
export interface SourceNode {
  readonly kind: 'source';
  readonly cube: string;
  readonly securityFilters: readonly FilterNode[];
}

/** The join tree: a root source LEFT JOINed to the other sources, each `from` already joined. */
export interface JoinNode {
  readonly kind: 'join';
  readonly root: SourceNode;
  readonly joins: readonly { readonly from: string; readonly to: string; readonly relationship: string; readonly source: SourceNode }[];
  /** Cubes whose rows this tree repeats. */
  readonly multiplied: readonly string[];
}

/** One row per distinct (dimensions, primary key of `cube`) over the join: Cube's keys subquery. */
export interface DistinctKeysNode {
  readonly kind: 'distinctKeys';
  readonly cube: string;
  readonly input: JoinNode;
  readonly dimensions: readonly OutputDimension[];
  readonly where: RowFilter;
}

/** Measures grouped by dimensions, over the join or over a cube's distinct keys joined back to its source. */
export interface AggregateNode {
  readonly kind: 'aggregate';
  readonly input: JoinNode | DistinctKeysNode;
  readonly dimensions: readonly OutputDimension[];
  readonly measures: readonly OutputMeasure[];
  /** `ungrouped`: one output row per input row. */
  readonly mode: 'grouped' | 'ungrouped';
  /** Row filters; a distinctKeys input carries its own. */
  readonly where: RowFilter;
  readonly having: readonly FilterNode[];
}

/** The periods a rolling window is computed for: one per granularity step, or the whole range. */
export interface SeriesNode {
  readonly kind: 'series';
  readonly dimension: string;
  readonly granularity?: Granularity | undefined;
  readonly dateRange: readonly [string, string];
  /** The output alias of the period column, when the query groups by it. */
  readonly alias?: string | undefined;
}

/** Measures sharing one rolling window, aggregated over the rows inside each period. */
export interface WindowNode {
  readonly kind: 'window';
  readonly series: SeriesNode;
  readonly input: JoinNode;
  readonly window: RollingWindow | undefined;
  readonly dimensions: readonly OutputDimension[];
  /** The measures this window computes; the other output measures are NULL here. */
  readonly measures: readonly OutputMeasure[];
  readonly allMeasures: readonly OutputMeasure[];
  /** Set when the join repeats the measures' cube: rows are first made distinct on its primary key. */
  readonly distinctBy?: string | undefined;
  readonly where: RowFilter;
  /** What FILTER_PARAMS on the series dimension read inside this window: the range the window reaches. */
  readonly filterParamsRange: readonly LeafFilter[];
}

/**
 * Parts computed separately and put side by side per dimension tuple: `join` matches keyed
 * aggregates on hashable NULL-safe keys; `union` stacks window parts and keeps each measure's value.
 */
export interface MergeNode {
  readonly kind: 'merge';
  readonly how: 'join' | 'union';
  readonly inputs: readonly (AggregateNode | WindowNode)[];
  readonly dimensions: readonly OutputDimension[];
  readonly measures: readonly OutputMeasure[];
  /** Measure filters applied after the merge, with the alias of each part's measure column. */
  readonly having: readonly FilterNode[];
  readonly havingAliases: Readonly<Record<string, string>>;
}

export type PlanNode = SourceNode | JoinNode | DistinctKeysNode | AggregateNode | SeriesNode | WindowNode | MergeNode;
export type PlanNodeKind = PlanNode['kind'];

export interface QueryPlan {
  readonly root: AggregateNode | MergeNode;
  readonly dimensions: readonly OutputDimension[];
  readonly measures: readonly OutputMeasure[];
  readonly order: readonly (readonly [string, 'asc' | 'desc'])[];
  readonly limit: number;
  readonly offset: number;
}

type Line = (n: never, depth: number, visit: (n: PlanNode, depth: number) => void, out: string[]) => void;

const names = (list: readonly { key?: string; member: string }[]) => list.map((x) => x.key ?? x.member).join(', ') || '-';
const whereText = (w: RowFilter) => (w.segments.length + w.filters.length > 0 ? ` where=${w.segments.length} segment(s), ${w.filters.length} filter(s)` : '');
const pad = (depth: number) => '  '.repeat(depth);

/** One printer per node kind, so a new kind without one fails to compile. */
const PRINT: Record<PlanNodeKind, Line> = {
  source: (n: SourceNode, d, _v, out) => out.push(`${pad(d)}source ${n.cube}${n.securityFilters.length > 0 ? ` security filters=${n.securityFilters.length}` : ''}`),
  join: (n: JoinNode, d, visit, out) => {
    out.push(`${pad(d)}join${n.multiplied.length > 0 ? ` multiplied=${n.multiplied.join(', ')}` : ''}`);
    visit(n.root, d + 1);
    for (const j of n.joins) {
      out.push(`${pad(d)}  ${j.relationship} ${j.from} -> ${j.to}`);
      visit(j.source, d + 2);
    }
  },
  distinctKeys: (n: DistinctKeysNode, d, visit, out) => {
    out.push(`${pad(d)}distinctKeys ${n.cube} by ${names(n.dimensions)}${whereText(n.where)}`);
    visit(n.input, d + 1);
  },
  aggregate: (n: AggregateNode, d, visit, out) => {
    out.push(`${pad(d)}aggregate ${n.mode} measures=${names(n.measures)} dimensions=${names(n.dimensions)}${whereText(n.where)}${n.having.length > 0 ? ` having=${n.having.length}` : ''}`);
    visit(n.input, d + 1);
  },
  series: (n: SeriesNode, d, _v, out) => out.push(`${pad(d)}series ${n.dimension} ${n.granularity ?? 'whole range'} ${n.dateRange[0]} .. ${n.dateRange[1]}`),
  window: (n: WindowNode, d, visit, out) => {
    out.push(`${pad(d)}window ${JSON.stringify(n.window ?? {})} measures=${names(n.measures)}${n.distinctBy ? ` distinct by ${n.distinctBy} key` : ''}${whereText(n.where)}`);
    visit(n.series, d + 1);
    visit(n.input, d + 1);
  },
  merge: (n: MergeNode, d, visit, out) => {
    out.push(`${pad(d)}merge ${n.how} on ${names(n.dimensions)}${n.having.length > 0 ? ` having=${n.having.length}` : ''}`);
    for (const i of n.inputs) visit(i, d + 1);
  },
};

/** An indented one-line-per-node rendering of a plan, for `tessera explain`. */
export function printPlan(plan: QueryPlan): string {
  const lines: string[] = [];
  const visit = (n: PlanNode, depth: number): void => PRINT[n.kind](n as never, depth, visit, lines);
  visit(plan.root, 0);
  const order = plan.order.map(([k, dir]) => `${k} ${dir}`).join(', ');
  lines.push(`order ${order || '-'} limit ${plan.limit}${plan.offset > 0 ? ` offset ${plan.offset}` : ''}`);
  return lines.join('\n');
}
