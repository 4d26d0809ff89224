/**
 * The query plan: a small tree of plain, frozen nodes that says how a resolved query is
 * computed. Fan-out handling (distinct keys), rolling windows (series + window) and the
 * merging of their parts are plan shapes; the renderer walks the tree and only writes SQL.
 */
import type { RollingWindow } from '../schema/model.js';
import type { FilterNode, Granularity } from '../query/validated-query.js';

/** A selected dimension (or time dimension at a granularity) and its SQL alias. */
export interface OutputDimension {
  /** The response key: `Cube.member` or `Cube.member.granularity`. */
  readonly key: string;
  readonly member: string;
  readonly granularity?: Granularity | undefined;
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

/** An indented one-line-per-node rendering of a plan, for `tessera explain`. */
export function printPlan(plan: QueryPlan): string {
  const lines: string[] = [];
  const names = (list: readonly { key?: string; member: string }[]) => list.map((x) => x.key ?? x.member).join(', ') || '-';
  const where = (w: RowFilter) => (w.segments.length + w.filters.length > 0 ? ` where=${w.segments.length} segment(s), ${w.filters.length} filter(s)` : '');
  const visit = (n: PlanNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    switch (n.kind) {
      case 'source':
        lines.push(`${pad}source ${n.cube}${n.securityFilters.length > 0 ? ` security filters=${n.securityFilters.length}` : ''}`);
        return;
      case 'join':
        lines.push(`${pad}join${n.multiplied.length > 0 ? ` multiplied=${n.multiplied.join(', ')}` : ''}`);
        visit(n.root, depth + 1);
        for (const j of n.joins) {
          lines.push(`${pad}  ${j.relationship} ${j.from} -> ${j.to}`);
          visit(j.source, depth + 2);
        }
        return;
      case 'distinctKeys':
        lines.push(`${pad}distinctKeys ${n.cube} by ${names(n.dimensions)}${where(n.where)}`);
        visit(n.input, depth + 1);
        return;
      case 'aggregate':
        lines.push(`${pad}aggregate ${n.mode} measures=${names(n.measures)} dimensions=${names(n.dimensions)}${where(n.where)}${n.having.length > 0 ? ` having=${n.having.length}` : ''}`);
        visit(n.input, depth + 1);
        return;
      case 'series':
        lines.push(`${pad}series ${n.dimension} ${n.granularity ?? 'whole range'} ${n.dateRange[0]} .. ${n.dateRange[1]}`);
        return;
      case 'window':
        lines.push(`${pad}window ${JSON.stringify(n.window ?? {})} measures=${names(n.measures)}${n.distinctBy ? ` distinct by ${n.distinctBy} key` : ''}${where(n.where)}`);
        visit(n.series, depth + 1);
        visit(n.input, depth + 1);
        return;
      case 'merge':
        lines.push(`${pad}merge ${n.how} on ${names(n.dimensions)}${n.having.length > 0 ? ` having=${n.having.length}` : ''}`);
        for (const i of n.inputs) visit(i, depth + 1);
        return;
    }
  };
  visit(plan.root, 0);
  const order = plan.order.map(([k, d]) => `${k} ${d}`).join(', ');
  lines.push(`order ${order || '-'} limit ${plan.limit}${plan.offset > 0 ? ` offset ${plan.offset}` : ''}`);
  return lines.join('\n');
}
