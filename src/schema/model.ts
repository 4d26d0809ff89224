/**
 * The readonly Model: what `schema/` produces from the model files and what
 * `query/` and `compiler/` consume. Plain data plus SQL template functions.
 */

export type MeasureType =
  | 'count'
  | 'countDistinct'
  | 'countDistinctApprox'
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'number'
  | 'string'
  | 'time'
  | 'boolean';

export type DimensionType = 'string' | 'number' | 'time' | 'boolean';

export type Relationship = 'belongsTo' | 'hasMany' | 'hasOne';

/** A JSON-like security context (already verified). */
export type SecurityContext = Readonly<Record<string, unknown>>;

/**
 * Everything a SQL template needs while it is rendered for one query.
 * Implemented by the compiler; the schema loader's templates only call it.
 */
export interface SqlRenderContext {
  /** The quoted alias of a cube, what `${CUBE}` / `${Orders}` renders to. */
  cubeRef(cube: string): string;
  /** The SQL of a member, what `${CUBE.amount}` / `${Orders.count}` / bare `${amount}` render to. */
  memberRef(cube: string, member: string): string;
  /** Allocates a bound parameter and returns its placeholder. Values never enter SQL text. */
  param(value: unknown): string;
  /** The SQL-level security context (after `u` merge / claims namespace). */
  readonly securityContext: SecurityContext;
  /**
   * Renders the query's own filter on `cube.member` against `column` (FILTER_PARAMS),
   * or `1 = 1` when the query has none. Optional until issue 5.
   */
  filterParam?(cube: string, member: string, column: string | ((...params: string[]) => string)): string;
  /**
   * `FILTER_GROUP(FILTER_PARAMS…, …)`: renders several query filters keeping the query's own
   * AND/OR structure. Optional; without it the loader ANDs the `filterParam` renderings.
   */
  filterGroup?(items: readonly FilterParamRef[]): string;
  /** `SQL_UTILS.convertTz(sql)`: converts a timestamp expression to the query timezone. Optional; identity without it. */
  convertTz?(sql: string): string;
  /**
   * `${CUBE.created_at.fiscal_year}` / `${created_at.month}`: a time dimension truncated to one of its
   * granularities (predefined or custom), in the query timezone, as Cube's granularity proxy renders it.
   */
  granularityRef?(cube: string, member: string, granularity: string): string;
}

/** One `FILTER_PARAMS.<cube>.<member>.filter(column)` inside a `FILTER_GROUP`. */
export interface FilterParamRef {
  readonly cube: string;
  readonly member: string;
  readonly column: string | ((...params: string[]) => string);
}

/** A model SQL snippet, rendered per query. */
export type SqlTemplate = (ctx: SqlRenderContext) => string;

export interface MemberCommon {
  readonly name: string;
  readonly cube: string;
  readonly title: string;
  readonly shortTitle: string;
  readonly description?: string | undefined;
  readonly format?: string | undefined;
  /** `currency: EUR` with `format: currency` (ISO 4217, upper case). */
  readonly currency?: string | undefined;
  readonly meta?: Readonly<Record<string, unknown>> | undefined;
  /** `public` / `shown` resolved; primary keys default to false. */
  readonly public: boolean;
}

export interface RollingWindow {
  readonly trailing?: string | undefined;
  readonly leading?: string | undefined;
  readonly offset?: 'start' | 'end' | undefined;
  readonly type?: 'fixed' | 'to_date' | 'year_to_date' | 'quarter_to_date' | 'month_to_date' | undefined;
  readonly granularity?: string | undefined;
}

export interface Measure extends MemberCommon {
  readonly kind: 'measure';
  readonly type: MeasureType;
  /** Absent for `count` without sql. */
  readonly sql?: SqlTemplate | undefined;
  /** `filters: [{sql}]`, ANDed into `CASE WHEN … THEN expr END`. */
  readonly filters: readonly SqlTemplate[];
  /** Qualified `Cube.member` names. */
  readonly drillMembers: readonly string[];
  readonly rollingWindow?: RollingWindow | undefined;
  /**
   * Only on view measures, which are `number` measures over `memberRef(cube, member)` as in Cube:
   * the type of the underlying measure (`/meta` `aggType`).
   */
  readonly aggType?: MeasureType | undefined;
}

export interface CaseWhen {
  readonly sql: SqlTemplate;
  readonly label: string | { readonly sql: SqlTemplate };
}

/** A custom granularity of a time dimension (`granularities`), with Cube's meaning. */
export interface Granularity {
  readonly name: string;
  readonly title: string;
  /** Bucket length: `'1 year'`, `'2 weeks'`, `'1 month 15 days'`. */
  readonly interval: string;
  /** Shift of each bucket from the natural start of `interval` (`'3 months'`, `'-7 days'`); never with `origin`. */
  readonly offset?: string | undefined;
  /** A timestamp one bucket starts at (`'2024-01-07'`), buckets repeat every `interval` from it; never with `offset`. */
  readonly origin?: string | undefined;
}

export interface Dimension extends MemberCommon {
  readonly kind: 'dimension';
  readonly type: DimensionType;
  readonly sql: SqlTemplate;
  readonly primaryKey: boolean;
  readonly case?: { readonly when: readonly CaseWhen[]; readonly else?: { readonly label: string } | undefined } | undefined;
  readonly subQuery: boolean;
  /** Only on time dimensions that declare custom granularities; names as written. */
  readonly granularities?: ReadonlyMap<string, Granularity> | undefined;
}

export interface Segment extends MemberCommon {
  readonly kind: 'segment';
  readonly sql: SqlTemplate;
}

export interface Join {
  readonly from: string;
  readonly to: string;
  readonly relationship: Relationship;
  readonly sql: SqlTemplate;
}

/**
 * One entry of a cube's `accessPolicy` (issue 3); values are evaluated per request.
 * `memberLevel` lists hold qualified `Cube.member` names (`excludes: '*'` is expanded to every member).
 * `rowLevel.filters(ctx)` returns frozen REST-style filters: `{member: 'Cube.member', operator, values}`
 * (values raw from the context, as the model computed them) or `{and: [...]}` / `{or: [...]}`.
 * No `rowLevel` means no row restriction, as in Cube.
 */
export interface AccessPolicy {
  readonly groups: readonly string[];
  readonly conditions: readonly ((securityContext: SecurityContext) => unknown)[];
  readonly memberLevel?: { readonly includes: '*' | readonly string[]; readonly excludes: readonly string[] } | undefined;
  readonly rowLevel?:
    | { readonly allowAll: true }
    | { readonly filters: (securityContext: SecurityContext) => readonly unknown[] }
    | undefined;
}

export interface Cube {
  readonly name: string;
  readonly fileName: string;
  readonly kind: 'cube' | 'view';
  readonly title: string;
  readonly description?: string | undefined;
  readonly public: boolean;
  /** The cube's FROM source: a whole `SELECT …` or a table name (`sqlTable`). */
  readonly source: { readonly kind: 'sql'; readonly sql: SqlTemplate } | { readonly kind: 'table'; readonly sql: SqlTemplate };
  readonly measures: ReadonlyMap<string, Measure>;
  readonly dimensions: ReadonlyMap<string, Dimension>;
  readonly segments: ReadonlyMap<string, Segment>;
  /** Joins declared by this cube (directed: from this cube to `to`). */
  readonly joins: readonly Join[];
  readonly accessPolicy?: readonly AccessPolicy[] | undefined;
  /**
   * For views: member name in the view → the cube member it exposes (issue 5), with the view's
   * `join_path` to that cube (`['Orders', 'Users']`), which Cube uses as the join hint.
   * A view's `source` throws: plan view members through this map.
   */
  readonly viewMembers?:
    | ReadonlyMap<string, { readonly cube: string; readonly member: string; readonly joinPath: readonly string[] }>
    | undefined;
  readonly meta?: Readonly<Record<string, unknown>> | undefined;
  /** `refresh_key`: when cached results of this cube go stale (the result cache reads it). */
  readonly refreshKey?:
    | {
        readonly every?: string | undefined;
        readonly sql?: SqlTemplate | undefined;
        /** `immutable: true`: results never go stale. */
        readonly immutable?: boolean | undefined;
        readonly timezone?: string | undefined;
      }
    | undefined;
  /** `data_source`; `default` when absent. */
  readonly dataSource?: string | undefined;
  readonly hierarchies?: readonly Hierarchy[] | undefined;
  /** Views only. */
  readonly folders?: readonly Folder[] | undefined;
  readonly preAggregations?: readonly PreAggregation[] | undefined;
}

/** `hierarchies`: an ordered drill path over dimensions (qualified `Cube.dimension` names). */
export interface Hierarchy {
  readonly name: string;
  readonly title: string;
  readonly public: boolean;
  readonly levels: readonly string[];
}

/** `folders` of a view: a named group of the view's own member names, for clients. */
export interface Folder {
  readonly name: string;
  readonly members: readonly string[];
}

/**
 * A declared `pre_aggregations` entry, kept for `/meta` and tooling. Tessera has no rollup
 * store: queries such an entry would serve are answered from the source tables (same rows).
 */
export interface PreAggregation {
  readonly name: string;
  readonly type: 'rollup' | 'originalSql' | 'rollupJoin' | 'rollupLambda' | 'autoRollup';
  /** Qualified member names. */
  readonly measures: readonly string[];
  readonly dimensions: readonly string[];
  readonly segments: readonly string[];
  readonly timeDimension?: string | undefined;
  readonly granularity?: string | undefined;
  readonly partitionGranularity?: string | undefined;
  /** Names of the rollups a `rollupJoin` / `rollupLambda` combines. */
  readonly rollups: readonly string[];
  readonly refreshKey?: Readonly<Record<string, unknown>> | undefined;
}

export interface Model {
  readonly cubes: ReadonlyMap<string, Cube>;
  /** A digest of the model files; changes whenever the compiled model may answer differently. */
  readonly version?: string | undefined;
}

export type Member = Measure | Dimension | Segment;
