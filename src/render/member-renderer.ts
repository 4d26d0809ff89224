/**
 * Renders model SQL snippets for one query: members, cube sources, joins and filters.
 * It owns the query's parameter list, so every value goes through one place.
 */
import { DateTime } from 'luxon';
import { EngineError } from '../errors/engine-error.js';
import type { Cube, Dimension, Measure, Model, SecurityContext, SqlRenderContext, SqlTemplate } from '../schema/model.js';
import { cubeOf, isBuiltInGranularity, nameOf, type FilterNode, type Granularity, type LeafFilter, type ValidatedQuery } from '../query/validated-query.js';
import { localToUtc } from '../query/date-range.js';
import { planForCubes, type Plan } from '../plan/join-tree.js';
import { FILTER_SQL } from './filter-sql.js';
import { ParamList, POSTGRES, snakeCase, type Dialect } from './dialects/postgres.js';
import type { JoinNode } from '../plan/query-plan.js';

export type MeasureMode = 'aggregate' | 'distinct-safe' | 'ungrouped';

/** A rendered snippet that is one bare identifier, which Cube reads as a column of the member's own cube. */
const BARE_COLUMN = /^[_a-zA-Z][_a-zA-Z0-9]*$/;


/** Renders model members for one query; owns the parameter list. */
// The model is immutable, so each cube's primary keys are found once, not per query.
const primaryKeys = new WeakMap<Cube, readonly Dimension[]>();
function primaryKeysOf(cube: Cube): readonly Dimension[] {
  let keys = primaryKeys.get(cube);
  if (keys === undefined) {
    keys = [...cube.dimensions.values()].filter((d) => d.primaryKey);
    primaryKeys.set(cube, keys);
  }
  return keys;
}

/** As Cube's moment.tz(origin, zone): an origin without an offset is local to the query timezone, one with an offset is converted to it. */
function originInZone(origin: string, zone: string): string {
  const iso = DateTime.fromISO(origin, { zone });
  const parsed = iso.isValid ? iso : DateTime.fromSQL(origin, { zone });
  return parsed.isValid ? parsed.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS") : origin;
}

export class Renderer {
  readonly params = new ParamList();
  readonly dialect: Dialect = POSTGRES;
  readonly #model: Model;
  readonly #context: SecurityContext;
  readonly #query: ValidatedQuery;
  readonly #rendering: string[] = [];
  /** Temporary aliases, so a correlated subquery can name its own copy of a cube. */
  readonly #aliasOverride = new Map<string, string>();
  #tz: string | undefined;

  /** Cubes whose rows the join tree repeats: their count measures count distinct keys. */
  readonly #multiplied: ReadonlySet<string>;
  /** Open recordings of the cubes whose alias rendered SQL uses (cross-cube references). */
  #recorders: Set<string>[] = [];
  /** FILTER_PARAMS date ranges that replace a time dimension's dateRange while a window renders. */
  readonly #filterParamRanges = new Map<string, readonly LeafFilter[]>();
  /** Cubes read inside subQuery dimensions' own selects. */
  readonly subQueryCubes = new Set<string>();

  constructor(model: Model, query: ValidatedQuery, context: SecurityContext, multiplied: readonly string[] = []) {
    this.#model = model;
    this.#query = query;
    this.#context = context;
    this.#multiplied = new Set(multiplied);
  }

  cube(name: string): Cube {
    const cube = this.#model.cubes.get(name);
    if (!cube) throw new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown cube: ${name}`);
    return cube;
  }

  alias(cube: string): string {
    for (const rec of this.#recorders) rec.add(cube);
    return this.dialect.quoteIdentifier(this.#aliasOverride.get(cube) ?? snakeCase(cube));
  }

  /** The query timezone (an IANA name). */
  get timezone(): string {
    return this.#query.timezone;
  }

  /** The timezone placeholder, allocated once so every use shares one `$n`. */
  tz(): string {
    this.#tz ??= this.params.add(this.#query.timezone);
    return this.#tz;
  }

  context(mode: MeasureMode): SqlRenderContext {
    return {
      cubeRef: (cube) => this.alias(cube),
      memberRef: (cube, member) => this.memberSql(cube, member, mode),
      param: (value) => this.params.add(value),
      securityContext: this.#context,
      filterParam: (cube, member, column) => this.filterParam(`${cube}.${member}`, column),
      granularityRef: (cube, member, granularity) => this.granularitySql(cube, member, granularity),
    };
  }

  /**
   * A time dimension truncated to a predefined or custom granularity, in the query timezone, as Cube's
   * granularity proxy: `1 <unit>` intervals truncate (shifted by the offset), others bin from the origin.
   */
  granularitySql(cube: string, member: string, name: string): string {
    const local = this.dialect.toLocalTime(this.memberSql(cube, member, 'aggregate'), this.tz());
    const custom = this.cube(cube).dimensions.get(member)?.granularities?.get(name);
    if (!custom) {
      if (!isBuiltInGranularity(name)) throw new EngineError('ERR_QUERY_INVALID', `Granularity "${name}" does not exist in dimension ${cube}.${member}`);
      return this.dialect.dateTrunc(name, local);
    }
    const [count, unitWord = ''] = custom.interval.split(/\s+/);
    const unit = unitWord.replace(/s$/, '') as Granularity;
    const offset = custom.offset === undefined ? undefined : this.dialect.intervalLiteral(custom.offset);
    if (count === '1' && custom.interval.split(/\s+/).length === 2 && custom.origin === undefined) {
      return offset ? `(${this.dialect.dateTrunc(unit, `${local} - ${offset}`)} + ${offset})` : this.dialect.dateTrunc(unit, local);
    }
    // Cube's default origin is the start of the current year in the query timezone (a week-only interval: that week's Monday).
    const yearStart = this.dialect.dateTrunc('year', this.dialect.toLocalTime('now()', this.tz()));
    const natural = /^\d+\s+weeks?$/.test(custom.interval) ? this.dialect.dateTrunc('week', yearStart) : yearStart;
    const origin = custom.origin !== undefined ? this.dialect.timestampParam(this.params.add(originInZone(custom.origin, this.#query.timezone))) : offset ? `(${natural} + ${offset})` : natural;
    const step = this.dialect.intervalLiteral(custom.interval);
    return `(${origin} + ${step} * floor(extract(epoch from (${local} - ${origin})) / extract(epoch from ${step})))`;
  }

  render(template: SqlTemplate, mode: MeasureMode = 'aggregate'): string {
    return template(this.context(mode));
  }

  /**
   * Renders a member's, segment's or primary key's SQL and, as Cube's autoPrefixWithCubeName does,
   * qualifies a bare column name (`sql: 'status'`) with the cube's alias.
   */
  renderOwn(cube: string, template: SqlTemplate, mode: MeasureMode = 'aggregate'): string {
    const sql = template(this.context(mode));
    return BARE_COLUMN.test(sql) ? `${this.alias(cube)}.${sql}` : sql;
  }

  memberSql(cube: string, member: string, mode: MeasureMode): string {
    const c = this.cube(cube);
    const key = `${cube}.${member}`;
    if (this.#rendering.includes(key)) {
      throw new EngineError('ERR_PLAN_UNSUPPORTED', `Member ${key} references itself`);
    }
    this.#rendering.push(key);
    try {
      const dim = c.dimensions.get(member);
      if (dim) return this.dimensionSql(dim);
      const measure = c.measures.get(member);
      // Inlined into another member, a rolling window measure would lose its window and answer wrongly: refuse instead.
      if (measure?.rollingWindow !== undefined && this.#rendering.length > 1) {
        throw new EngineError('ERR_PLAN_UNSUPPORTED', `Measure ${this.#rendering[0]} reads the rolling window measure ${key}, and a formula over rolling windows is not supported yet`);
      }
      if (measure) return this.measureSql(measure, mode);
      throw new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown member: ${key}`);
    } finally {
      this.#rendering.pop();
    }
  }

  dimensionSql(dim: Dimension): string {
    if (dim.subQuery) return this.subQueryDimensionSql(dim);
    if (dim.case) {
      const whens = dim.case.when.map((w) => {
        const label = typeof w.label === 'string' ? this.params.add(w.label) : this.render(w.label.sql);
        return `WHEN ${this.render(w.sql)} THEN ${label}`;
      });
      const otherwise = dim.case.else ? ` ELSE ${this.params.add(dim.case.else.label)}` : '';
      return `CASE ${whens.join(' ')}${otherwise} END`;
    }
    return this.renderOwn(dim.cube, dim.sql);
  }

  /**
   * A `subQuery` dimension: its measure is aggregated in a correlated subquery over the
   * measure's cube joined to this cube's own copy, matched on this cube's primary key.
   */
  subQueryDimensionSql(dim: Dimension): string {
    const outerKey = this.primaryKeySql(dim.cube);
    if (!outerKey) throw new EngineError('ERR_PLAN_UNSUPPORTED', `Cube ${dim.cube} needs a primary key for the subQuery dimension ${dim.name}`);
    const inner = `${snakeCase(dim.cube)}__${snakeCase(dim.name)}_sq`;
    const previous = this.#aliasOverride.get(dim.cube);
    this.#aliasOverride.set(dim.cube, inner);
    // The subquery reads its cubes on its own; they do not join the outer query.
    const outerRecorders = this.#recorders;
    this.#recorders = [];
    try {
      const cubes = new Set<string>([dim.cube]);
      const value = dim.sql({ ...this.context('aggregate'), memberRef: (cube, member) => {
        cubes.add(cube);
        return this.memberSql(cube, member, 'aggregate');
      } });
      const plan = planForCubes(this.#model, [...cubes].reverse());
      plan.cubes.forEach((c) => this.subQueryCubes.add(c));
      const innerKey = this.primaryKeySql(dim.cube) as string;
      return `(SELECT ${value} FROM ${this.from(plan)} WHERE ${innerKey} = ${outerKey})`;
    } finally {
      this.#recorders = outerRecorders;
      if (previous === undefined) this.#aliasOverride.delete(dim.cube);
      else this.#aliasOverride.set(dim.cube, previous);
    }
  }

  primaryKeySql(cube: string): string | undefined {
    const keys = primaryKeysOf(this.cube(cube));
    if (keys.length === 0) return undefined;
    if (keys.length === 1) return this.dimensionSql(keys[0] as Dimension);
    return keys.map((k) => this.dialect.castText(this.dimensionSql(k))).join(" || '|' || ");
  }

  measureSql(m: Measure, mode: MeasureMode): string {
    if (m.type === 'number' || m.type === 'string' || m.type === 'time' || m.type === 'boolean') {
      return m.sql ? this.renderOwn(m.cube, m.sql, mode) : 'NULL';
    }
    const pk = this.primaryKeySql(m.cube);
    let inner = m.sql ? this.renderOwn(m.cube, m.sql, mode) : undefined;
    const filters = m.filters.map((f) => `(${this.render(f, mode)})`);
    if (filters.length > 0) inner = `CASE WHEN ${filters.join(' AND ')} THEN ${inner ?? pk ?? '1'} END`;
    if (mode === 'ungrouped') {
      return m.type === 'count' ? (inner ? `CASE WHEN ${inner} IS NOT NULL THEN 1 END` : '1') : (inner ?? 'NULL');
    }
    switch (m.type) {
      case 'count':
        if (!m.sql && mode === 'distinct-safe') return `count(DISTINCT ${inner ?? pk ?? '*'})`;
        return `count(${inner ?? pk ?? '*'})`;
      case 'countDistinct':
      case 'countDistinctApprox':
        return `count(DISTINCT ${inner ?? pk ?? '*'})`;
      case 'sum':
      case 'avg':
      case 'min':
      case 'max':
        return `${m.type}(${inner ?? 'NULL'})`;
    }
  }

  /**
   * A cube's FROM item. The security filters the policy stage attached to the cube are applied
   * here, inside the item, so they hold wherever the cube's rows are read.
   */
  source(cube: string): string {
    const c = this.cube(cube);
    const sql = this.render(c.source.sql);
    const alias = this.alias(cube);
    const item = c.source.kind === 'table' ? `${sql} AS ${alias}` : `(${sql}) AS ${alias}`;
    const filters = this.#query.securityFilters?.[cube];
    if (filters === undefined || filters.length === 0) return item;
    return `(SELECT * FROM ${item} WHERE ${filters.map((f) => this.ownFilterSql(cube, f)).join(' AND ')}) AS ${alias}`;
  }

  /** A security filter of `cube`, which may only read that cube's own dimensions (it runs inside the cube's FROM item). */
  ownFilterSql(cube: string, node: FilterNode): string {
    const check = (n: FilterNode): void => {
      if (n.kind !== 'leaf') return n.filters.forEach(check);
      if (cubeOf(n.member) !== cube || !this.cube(cube).dimensions.has(nameOf(n.member))) {
        throw new EngineError('ERR_PLAN_UNSUPPORTED', `A security filter of ${cube} can only use dimensions of ${cube}`);
      }
    };
    check(node);
    const [sql, cubes] = this.recordCubes(() => this.filterSql(node));
    if ([...cubes].some((c) => c !== cube)) {
      throw new EngineError('ERR_PLAN_UNSUPPORTED', `A security filter of ${cube} can only use dimensions of ${cube}`);
    }
    return sql;
  }

  /** Runs `fn` and returns what it rendered with the cubes whose alias it used (outside subQuery dimensions). */
  recordCubes<T>(fn: () => T): [T, ReadonlySet<string>] {
    const cubes = new Set<string>();
    this.#recorders.push(cubes);
    try {
      return [fn(), cubes];
    } finally {
      this.#recorders.splice(this.#recorders.indexOf(cubes), 1);
    }
  }

  /** The FROM clause of a plan's join node: every source with its security filters, joined by the model's join SQL. */
  fromJoin(node: JoinNode): string {
    const parts = [this.source(node.root.cube)];
    for (const j of node.joins) {
      const join = this.cube(j.from).joins.find((x) => x.to === j.to);
      if (!join) throw new EngineError('ERR_PLAN_NO_JOIN_PATH', `Can't find join path to join '${j.from}', '${j.to}'`);
      parts.push(`LEFT JOIN ${this.source(j.to)} ON ${this.render(join.sql)}`);
    }
    return parts.join('\n');
  }

  from(plan: Plan): string {
    const parts = [this.source(plan.root)];
    for (const j of plan.joins) {
      parts.push(`LEFT JOIN ${this.source(j.to)} ON ${this.render(j.sql)}`);
    }
    return parts.join('\n');
  }

  /** A time dimension in the query timezone, at a built-in or custom granularity when one is given. */
  timeExpr(member: string, granularity: string | undefined): string {
    if (granularity) return this.granularitySql(cubeOf(member), nameOf(member), granularity);
    return this.dialect.toLocalTime(this.memberSql(cubeOf(member), nameOf(member), 'aggregate'), this.tz());
  }

  leafSql(f: LeafFilter, columnOverride?: string): string {
    const cube = this.cube(cubeOf(f.member));
    const name = nameOf(f.member);
    const measure = cube.measures.get(name);
    const dim = cube.dimensions.get(name);
    const zone = this.#query.timezone;
    if (f.operator === 'measureFilter') {
      const conds = (measure?.filters ?? []).map((t) => this.render(t));
      return FILTER_SQL.measureFilter({ column: '', values: [], param: (v) => this.params.add(v), toUtc: (l) => l, type: 'number', measureFilters: conds });
    }
    const mode: MeasureMode = measure && this.#multiplied.has(cube.name) ? 'distinct-safe' : 'aggregate';
    const column = columnOverride ?? this.memberSql(cube.name, name, mode);
    const type = dim ? dim.type : measure && (measure.type === 'string' || measure.type === 'time' || measure.type === 'boolean') ? measure.type : 'number';
    return FILTER_SQL[f.operator]({
      column,
      values: f.values,
      param: (v) => this.params.add(v),
      toUtc: (local) => localToUtc(local, zone),
      type,
      castNumeric: measure !== undefined && type === 'number',
    });
  }

  filterSql(node: FilterNode, override?: (leaf: LeafFilter) => string | undefined): string {
    if (node.kind === 'leaf') return `(${this.leafSql(node, override?.(node))})`;
    // An empty AND matches everything; an empty OR matches nothing.
    if (node.filters.length === 0) return node.kind === 'and' ? '(1 = 1)' : '(1 = 0)';
    return `(${node.filters.map((c) => this.filterSql(c, override)).join(node.kind === 'and' ? ' AND ' : ' OR ')})`;
  }

  /**
   * Renders `fn` with FILTER_PARAMS on a time dimension reading `leaves` instead of the query's
   * dateRange: a rolling window reads rows outside the range, and a source must not cut them.
   */
  withFilterParamRange<T>(dimension: string, leaves: readonly LeafFilter[], fn: () => T): T {
    const previous = this.#filterParamRanges.get(dimension);
    this.#filterParamRanges.set(dimension, leaves);
    try {
      return fn();
    } finally {
      if (previous === undefined) this.#filterParamRanges.delete(dimension);
      else this.#filterParamRanges.set(dimension, previous);
    }
  }

  /** FILTER_PARAMS: the query's own filter on `member`, rendered against `column`. */
  filterParam(member: string, column: string | ((...params: string[]) => string)): string {
    const leaves: LeafFilter[] = [];
    const collect = (nodes: readonly FilterNode[]) => {
      for (const n of nodes) {
        if (n.kind === 'leaf') {
          if (n.member === member) leaves.push(n);
        } else if (n.kind === 'and') collect(n.filters);
      }
    };
    collect(this.#query.filters);
    const override = this.#filterParamRanges.get(member);
    if (override) leaves.push(...override);
    for (const td of override ? [] : this.#query.timeDimensions) {
      if (td.dimension === member && td.dateRange) {
        leaves.push({ kind: 'leaf', member, operator: 'inDateRange', values: td.dateRange });
      }
    }
    if (leaves.length === 0) return '1 = 1';
    return leaves
      .map((leaf) => {
        if (typeof column === 'function') {
          const zone = this.#query.timezone;
          const values = leaf.operator.endsWith('DateRange') || leaf.operator.endsWith('Date')
            ? leaf.values.map((v) => this.params.add(localToUtc(v ?? '', zone)))
            : leaf.values.map((v) => this.params.add(v));
          return `(${column(...values)})`;
        }
        return `(${this.leafSql(leaf, column)})`;
      })
      .join(' AND ');
  }
}

