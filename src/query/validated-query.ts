/**
 * The normalised query that leaves `validate`: every member exists in the model,
 * every value is still a plain (untrusted) value that must become a parameter.
 */

/** `Orders.status` → `Orders`. */
export const cubeOf = (member: string): string => member.slice(0, member.indexOf('.'));
/** `Orders.status` → `status` (`Orders.createdAt.day` → `createdAt.day`). */
export const nameOf = (member: string): string => member.slice(member.indexOf('.') + 1);

export const GRANULARITIES = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
/** A built-in granularity. */
export type Granularity = (typeof GRANULARITIES)[number];
/** A built-in granularity or one of the time dimension's custom `granularities`. */
export type GranularityName = string;

export const isBuiltInGranularity = (name: string): name is Granularity => (GRANULARITIES as readonly string[]).includes(name);

/** The length of one period of each granularity, as a PostgreSQL interval. */
export const GRANULARITY_INTERVAL: Readonly<Record<Granularity, string>> = {
  second: '1 second',
  minute: '1 minute',
  hour: '1 hour',
  day: '1 day',
  week: '1 week',
  month: '1 month',
  quarter: '3 months',
  year: '1 year',
};

export const FILTER_OPERATORS = [
  'equals',
  'notEquals',
  'contains',
  'notContains',
  'startsWith',
  'notStartsWith',
  'endsWith',
  'notEndsWith',
  'in',
  'notIn',
  'gt',
  'gte',
  'lt',
  'lte',
  'set',
  'notSet',
  'inDateRange',
  'notInDateRange',
  'onTheDate',
  'beforeDate',
  'beforeOrOnDate',
  'afterDate',
  'afterOrOnDate',
  'measureFilter',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** Operators whose values are dates, resolved in the query timezone. */
export const DATE_OPERATORS: readonly FilterOperator[] = [
  'inDateRange',
  'notInDateRange',
  'onTheDate',
  'beforeDate',
  'beforeOrOnDate',
  'afterDate',
  'afterOrOnDate',
];

export type FilterValue = string | null;

export interface LeafFilter {
  readonly kind: 'leaf';
  /** `Cube.member` */
  readonly member: string;
  readonly operator: FilterOperator;
  readonly values: readonly FilterValue[];
}
export interface GroupFilter {
  readonly kind: 'and' | 'or';
  readonly filters: readonly FilterNode[];
}
export type FilterNode = LeafFilter | GroupFilter;

export interface TimeDimension {
  /** `Cube.member` */
  readonly dimension: string;
  /** Built-in, or custom on that dimension (checked by validate). */
  readonly granularity?: GranularityName | undefined;
  /** Absolute local timestamps `YYYY-MM-DDTHH:mm:ss.SSS` in the query timezone. */
  readonly dateRange?: readonly [string, string] | undefined;
}

export interface ValidatedQuery {
  readonly measures: readonly string[];
  readonly dimensions: readonly string[];
  readonly segments: readonly string[];
  readonly timeDimensions: readonly TimeDimension[];
  readonly filters: readonly FilterNode[];
  /** Explicit or default order: `[member or member.granularity, direction]`. */
  readonly order: readonly (readonly [string, 'asc' | 'desc'])[];
  readonly limit: number;
  readonly offset: number;
  readonly timezone: string;
  readonly total: boolean;
  readonly ungrouped: boolean;
  readonly responseFormat: 'default' | 'compact' | 'columnar';
  /**
   * Row filters that security attaches to a cube (access policies), keyed by cube name.
   * The compiler applies a cube's entry wherever that cube's rows are read: the outer query,
   * joins, keys subqueries, subQuery dimensions, rolling windows, compare and blending.
   * Set only by the policy stage; never by a request.
   */
  readonly securityFilters?: Readonly<Record<string, readonly FilterNode[]>> | undefined;
}

/** The cubes and views whose rows a compiled query reads, handed to the policy stage. */
export interface ReadSet {
  /** Every cube whose rows are read: join-tree roots, joined and intermediate cubes, subQuery and cross-cube references. */
  readonly cubes: readonly string[];
  /** The views the caller's query names (before they are resolved to cubes). */
  readonly views: readonly string[];
}
