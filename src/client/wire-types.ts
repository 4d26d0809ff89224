/**
 * The wire format of Cube's REST API as the client sees it. Type-only, so the
 * client bundle carries no code from the server side.
 */

export type Granularity = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

export type FilterOperator =
  | 'equals'
  | 'notEquals'
  | 'contains'
  | 'notContains'
  | 'startsWith'
  | 'notStartsWith'
  | 'endsWith'
  | 'notEndsWith'
  | 'in'
  | 'notIn'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'set'
  | 'notSet'
  | 'inDateRange'
  | 'notInDateRange'
  | 'onTheDate'
  | 'beforeDate'
  | 'beforeOrOnDate'
  | 'afterDate'
  | 'afterOrOnDate'
  | 'measureFilter';

export interface MemberFilter {
  readonly member?: string;
  /** Cube's older spelling of `member`. */
  readonly dimension?: string;
  readonly operator: FilterOperator;
  readonly values?: readonly (string | number | boolean | null)[];
}
export interface LogicalAndFilter {
  readonly and: readonly Filter[];
}
export interface LogicalOrFilter {
  readonly or: readonly Filter[];
}
export type Filter = MemberFilter | LogicalAndFilter | LogicalOrFilter;

export interface TimeDimensionQuery {
  readonly dimension: string;
  readonly granularity?: Granularity;
  readonly dateRange?: string | readonly [string, string];
  readonly compareDateRange?: readonly (string | readonly [string, string])[];
}

export type QueryOrder =
  | Readonly<Record<string, 'asc' | 'desc'>>
  | readonly (readonly [string, 'asc' | 'desc'])[];

/** A semantic query, as `/load`, `/sql` and `/dry-run` accept it. */
export interface Query {
  readonly measures?: readonly string[];
  readonly dimensions?: readonly string[];
  readonly segments?: readonly string[];
  readonly timeDimensions?: readonly TimeDimensionQuery[];
  readonly filters?: readonly Filter[];
  readonly order?: QueryOrder;
  readonly limit?: number;
  readonly offset?: number;
  readonly timezone?: string;
  readonly total?: boolean;
  readonly ungrouped?: boolean;
  readonly responseFormat?: 'default' | 'compact' | 'columnar';
}

/** The query as the server normalised it; informational. */
export interface NormalizedQuery {
  readonly measures?: readonly string[];
  readonly dimensions?: readonly string[];
  readonly segments?: readonly string[];
  readonly timeDimensions?: readonly {
    readonly dimension: string;
    readonly granularity?: Granularity | string;
    readonly dateRange?: readonly [string, string];
  }[];
  readonly filters?: readonly unknown[];
  readonly order?: unknown;
  readonly limit?: number;
  readonly offset?: number;
  readonly timezone?: string;
  readonly responseFormat?: 'default' | 'compact' | 'columnar';
  readonly [key: string]: unknown;
}

export type MemberType = 'number' | 'string' | 'time' | 'boolean' | 'geo';

export interface AnnotationEntry {
  readonly title?: string;
  readonly shortTitle?: string;
  readonly description?: string;
  readonly type?: MemberType | string;
  readonly format?: string;
  readonly meta?: unknown;
  readonly granularity?: { readonly name: string; readonly title?: string; readonly interval?: string };
  readonly [key: string]: unknown;
}

export interface Annotation {
  readonly measures: Readonly<Record<string, AnnotationEntry>>;
  readonly dimensions: Readonly<Record<string, AnnotationEntry>>;
  readonly segments: Readonly<Record<string, AnnotationEntry>>;
  readonly timeDimensions: Readonly<Record<string, AnnotationEntry>>;
}

/** A cell as the server sent it: numbers from PostgreSQL arrive as strings. */
export type CellValue = string | number | boolean | null;
export type Row = Readonly<Record<string, CellValue>>;

/** One entry of `results` in the multi envelope. */
export interface LoadResult {
  readonly query: NormalizedQuery;
  readonly data: readonly Row[];
  readonly annotation: Annotation;
  readonly lastRefreshTime?: string;
  readonly total?: number | null;
  readonly slowQuery?: boolean;
  readonly dataSource?: string;
  readonly dbType?: string;
  readonly external?: boolean;
  readonly [key: string]: unknown;
}

export type QueryType = 'regularQuery' | 'compareDateRangeQuery' | 'blendingQuery';

/** What `/load?queryType=multi` answers. */
export interface LoadResponse {
  readonly queryType: QueryType;
  readonly results: readonly LoadResult[];
  readonly pivotQuery: NormalizedQuery & { readonly queryType?: QueryType };
  readonly slowQuery?: boolean;
}

/** What `/sql` answers for a regular query. */
export interface SqlResponse {
  readonly sql: {
    /** `[sql text with $1.. placeholders, parameters]` */
    readonly sql: readonly [string, readonly unknown[]];
    readonly [key: string]: unknown;
  };
  readonly dataSource?: string;
  readonly [key: string]: unknown;
}

export interface MetaMember {
  readonly name: string;
  readonly title: string;
  readonly shortTitle?: string;
  readonly description?: string;
  readonly type: string;
  readonly format?: string;
  readonly meta?: unknown;
  readonly isVisible?: boolean;
  readonly public?: boolean;
  readonly [key: string]: unknown;
}

export interface MetaCube {
  readonly name: string;
  readonly title: string;
  readonly type?: 'cube' | 'view';
  readonly description?: string;
  readonly measures: readonly MetaMember[];
  readonly dimensions: readonly MetaMember[];
  readonly segments: readonly MetaMember[];
  readonly [key: string]: unknown;
}

/** What `/meta` answers. */
export interface MetaResponse {
  readonly cubes: readonly MetaCube[];
  readonly [key: string]: unknown;
}

/** What `/dry-run` answers. */
export interface DryRunResponse {
  readonly queryType: QueryType;
  readonly normalizedQueries: readonly NormalizedQuery[];
  readonly queryOrder?: readonly Readonly<Record<string, 'asc' | 'desc'>>[];
  readonly transformedQueries?: readonly unknown[];
  readonly pivotQuery: NormalizedQuery & { readonly queryType?: QueryType };
  readonly [key: string]: unknown;
}

/** The error body Tessera sends: Cube's `{error}` plus a stable `code`. */
export interface ErrorBody {
  readonly error: string;
  readonly code?: string;
  readonly requestId?: string;
}
