/**
 * The compile stage: (ValidatedQuery, Plan, Model, security context) → parameterised SQL.
 * Model snippets are rendered per query so that security-context filters bind real values.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Cube, Dimension, Measure, Model, SecurityContext, SqlRenderContext, SqlTemplate } from '../schema/model.js';
import type { FilterNode, Granularity, LeafFilter, ValidatedQuery } from '../query/validated-query.js';
import { localToUtc } from '../query/date-range.js';
import type { CompiledSql } from '../db/database.js';
import { planForCubes, type Plan } from './build-plan.js';
import { FILTER_SQL } from './filter-sql.js';
import { ParamList, quoteIdentifier, snakeCase } from './sql-text.js';

export interface OutputColumn {
  readonly alias: string;
  /** `Cube.member`, or `Cube.member.granularity` for grouped time dimensions. */
  readonly key: string;
  readonly member: string;
  readonly kind: 'measure' | 'dimension' | 'timeDimension';
  readonly granularity?: Granularity | undefined;
}

export interface CompiledQuery extends CompiledSql {
  readonly columns: readonly OutputColumn[];
}

type MeasureMode = 'aggregate' | 'distinct-safe' | 'ungrouped';

interface SelectItem {
  readonly expr: string;
  readonly alias: string;
}

const cubeOf = (member: string): string => member.slice(0, member.indexOf('.'));
const nameOf = (member: string): string => member.slice(member.indexOf('.') + 1);

/** Renders model members for one query; owns the parameter list. */
class Renderer {
  readonly params = new ParamList();
  readonly #model: Model;
  readonly #context: SecurityContext;
  readonly #query: ValidatedQuery;
  readonly #rendering: string[] = [];
  /** Temporary aliases, so a correlated subquery can name its own copy of a cube. */
  readonly #aliasOverride = new Map<string, string>();
  #tz: string | undefined;

  constructor(model: Model, query: ValidatedQuery, context: SecurityContext) {
    this.#model = model;
    this.#query = query;
    this.#context = context;
  }

  cube(name: string): Cube {
    const cube = this.#model.cubes.get(name);
    if (!cube) throw new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown cube: ${name}`);
    return cube;
  }

  alias(cube: string): string {
    return quoteIdentifier(this.#aliasOverride.get(cube) ?? snakeCase(cube));
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
    };
  }

  render(template: SqlTemplate, mode: MeasureMode = 'aggregate'): string {
    return template(this.context(mode));
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
    return this.render(dim.sql);
  }

  /**
   * A `subQuery` dimension: its measure is aggregated in a correlated subquery over the
   * measure's cube joined to this cube's own copy, matched on this cube's primary key.
   */
  subQueryDimensionSql(dim: Dimension): string {
    const outerKey = this.primaryKeySql(dim.cube);
    if (!outerKey) throw new EngineError('ERR_PLAN_UNSUPPORTED', `Cube ${dim.cube} needs a primary key for the subQuery dimension ${dim.name}`);
    const inner = `${snakeCase(dim.cube)}__${snakeCase(dim.name)}_sq`;
    this.#aliasOverride.set(dim.cube, inner);
    try {
      const cubes = new Set<string>([dim.cube]);
      const value = dim.sql({ ...this.context('aggregate'), memberRef: (cube, member) => {
        cubes.add(cube);
        return this.memberSql(cube, member, 'aggregate');
      } });
      const plan = planForCubes(this.#model, [...cubes].reverse());
      const innerKey = this.primaryKeySql(dim.cube) as string;
      return `(SELECT ${value} FROM ${this.from(plan)} WHERE ${innerKey} = ${outerKey})`;
    } finally {
      this.#aliasOverride.delete(dim.cube);
    }
  }

  primaryKeySql(cube: string): string | undefined {
    const keys = [...this.cube(cube).dimensions.values()].filter((d) => d.primaryKey);
    if (keys.length === 0) return undefined;
    if (keys.length === 1) return this.dimensionSql(keys[0] as Dimension);
    return keys.map((k) => `CAST(${this.dimensionSql(k)} AS TEXT)`).join(" || '|' || ");
  }

  measureSql(m: Measure, mode: MeasureMode): string {
    if (m.type === 'number' || m.type === 'string' || m.type === 'time' || m.type === 'boolean') {
      return m.sql ? this.render(m.sql, mode) : 'NULL';
    }
    const pk = this.primaryKeySql(m.cube);
    let inner = m.sql ? this.render(m.sql, mode) : undefined;
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

  source(cube: string): string {
    const c = this.cube(cube);
    const sql = this.render(c.source.sql);
    return c.source.kind === 'table' ? `${sql} AS ${this.alias(cube)}` : `(${sql}) AS ${this.alias(cube)}`;
  }

  from(plan: Plan): string {
    const parts = [this.source(plan.root)];
    for (const j of plan.joins) {
      parts.push(`LEFT JOIN ${this.source(j.to)} ON ${this.render(j.sql)}`);
    }
    return parts.join('\n');
  }

  timeExpr(member: string, granularity: Granularity | undefined): string {
    const dim = this.memberSql(cubeOf(member), nameOf(member), 'aggregate');
    const local = `(${dim})::timestamptz AT TIME ZONE ${this.tz()}`;
    return granularity ? `date_trunc('${granularity}', ${local})` : local;
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
    const column = columnOverride ?? this.memberSql(cube.name, name, 'aggregate');
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
    for (const td of this.#query.timeDimensions) {
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

interface Shape {
  readonly dims: readonly { readonly key: string; readonly member: string; readonly granularity?: Granularity; readonly alias: string }[];
  readonly measures: readonly { readonly member: string; readonly alias: string }[];
}

function outputShape(q: ValidatedQuery): Shape {
  const used = new Set<string>();
  const unique = (base: string): string => {
    let a = base.slice(0, 60);
    for (let i = 2; used.has(a); i++) a = `${base.slice(0, 56)}_${i}`;
    used.add(a);
    return a;
  };
  const aliasOf = (member: string, suffix = '') => unique(`${snakeCase(cubeOf(member))}__${snakeCase(nameOf(member))}${suffix}`);
  const dims: Shape['dims'][number][] = q.dimensions.map((d) => ({ key: d, member: d, alias: aliasOf(d) }));
  for (const td of q.timeDimensions) {
    if (!td.granularity) continue;
    dims.push({ key: `${td.dimension}.${td.granularity}`, member: td.dimension, granularity: td.granularity, alias: aliasOf(td.dimension, `_${td.granularity}`) });
  }
  const measures = q.measures.map((m) => ({ member: m, alias: aliasOf(m) }));
  return { dims, measures };
}

function whereParts(r: Renderer, q: ValidatedQuery, model: Model, dimensionFilters: readonly FilterNode[]): string[] {
  const parts: string[] = [];
  for (const s of q.segments) {
    const seg = r.cube(cubeOf(s)).segments.get(nameOf(s));
    if (seg) parts.push(`(${r.render(seg.sql)})`);
  }
  for (const td of q.timeDimensions) {
    if (!td.dateRange) continue;
    parts.push(r.filterSql({ kind: 'leaf', member: td.dimension, operator: 'inDateRange', values: td.dateRange }));
  }
  for (const f of dimensionFilters) parts.push(r.filterSql(f));
  void model;
  return parts;
}

function dimExpr(r: Renderer, d: Shape['dims'][number], model: Model): string {
  const dim = model.cubes.get(cubeOf(d.member))?.dimensions.get(nameOf(d.member));
  if (d.granularity || dim?.type === 'time') return r.timeExpr(d.member, d.granularity);
  return r.memberSql(cubeOf(d.member), nameOf(d.member), 'aggregate');
}

function orderClause(q: ValidatedQuery, columns: readonly OutputColumn[]): string {
  if (q.order.length === 0) return '';
  const items = q.order.map(([key, dir]) => {
    const idx = columns.findIndex((c) => c.key === key);
    return `${idx + 1} ${dir.toUpperCase()}`;
  });
  return `\nORDER BY ${items.join(', ')}`;
}

function limitClause(q: ValidatedQuery): string {
  // limit and offset are integers checked by the query schema, so they are rendered as literals, as Cube does.
  return `\nLIMIT ${Math.trunc(q.limit)}${q.offset > 0 ? ` OFFSET ${Math.trunc(q.offset)}` : ''}`;
}

function needsKeys(model: Model, plan: Plan, measure: string): boolean {
  const cube = cubeOf(measure);
  if (!plan.multiplied.includes(cube)) return false;
  const m = model.cubes.get(cube)?.measures.get(nameOf(measure));
  if (!m) return false;
  return !((m.type === 'count' && !m.sql) || m.type === 'countDistinct' || m.type === 'countDistinctApprox');
}

export interface CompileOptions {
  /** Wraps the query in `count(*)` without order, limit and offset (for `total`). */
  readonly forTotal?: boolean;
}

/** Compiles one validated query into SQL plus the output column map. */
export function compileQuery(
  model: Model,
  q: ValidatedQuery,
  plan: Plan,
  context: SecurityContext,
  opts: CompileOptions = {},
): CompiledQuery {
  const r = new Renderer(model, q, context);
  const shape = outputShape(q);
  const columns: OutputColumn[] = [
    ...shape.dims.map((d) => ({
      alias: d.alias,
      key: d.key,
      member: d.member,
      kind: d.granularity ? ('timeDimension' as const) : ('dimension' as const),
      granularity: d.granularity,
    })),
    ...shape.measures.map((m) => ({ alias: m.alias, key: m.member, member: m.member, kind: 'measure' as const })),
  ];

  const havingFilters: FilterNode[] = [];
  const whereFilters: FilterNode[] = [];
  for (const f of q.filters) {
    (isMeasureFilter(f, model) ? havingFilters : whereFilters).push(f);
  }

  const rolling = q.measures.some((m) => model.cubes.get(cubeOf(m))?.measures.get(nameOf(m))?.rollingWindow !== undefined);
  const keyed = q.ungrouped || rolling ? [] : [...new Set([...q.measures, ...havingMembers(havingFilters)].filter((m) => needsKeys(model, plan, m)).map(cubeOf))];
  let body: string;
  if (rolling && !q.ungrouped) {
    body = rollingSelect(r, q, model, plan, shape, whereFilters, havingFilters);
  } else if (keyed.length === 0) {
    body = simpleSelect(r, q, model, plan, shape, whereFilters, havingFilters);
  } else {
    body = keyedSelect(r, q, model, plan, shape, whereFilters, havingFilters, keyed);
  }
  if (opts.forTotal) {
    return Object.freeze({ ...r.params.finish(`SELECT count(*) AS "total_count" FROM (\n${body}\n) AS "original_query"`), columns: Object.freeze(columns) });
  }
  const text = `${body}${orderClause(q, columns)}${limitClause(q)}`;
  return Object.freeze({ ...r.params.finish(text), columns: Object.freeze(columns) });
}

function isMeasureFilter(f: FilterNode, model: Model): boolean {
  if (f.kind === 'leaf') {
    return f.operator !== 'measureFilter' && model.cubes.get(cubeOf(f.member))?.measures.has(nameOf(f.member)) === true;
  }
  return f.filters.some((c) => isMeasureFilter(c, model));
}

function havingMembers(filters: readonly FilterNode[]): string[] {
  const out: string[] = [];
  const walk = (n: FilterNode) => (n.kind === 'leaf' ? out.push(n.member) : n.filters.forEach(walk));
  filters.forEach(walk);
  return out;
}

function simpleSelect(
  r: Renderer,
  q: ValidatedQuery,
  model: Model,
  plan: Plan,
  shape: Shape,
  whereFilters: readonly FilterNode[],
  havingFilters: readonly FilterNode[],
): string {
  const mode: MeasureMode = q.ungrouped ? 'ungrouped' : 'aggregate';
  const select: SelectItem[] = [
    ...shape.dims.map((d) => ({ expr: dimExpr(r, d, model), alias: d.alias })),
    ...shape.measures.map((m) => ({
      expr: r.memberSql(cubeOf(m.member), nameOf(m.member), plan.multiplied.includes(cubeOf(m.member)) && mode === 'aggregate' ? 'distinct-safe' : mode),
      alias: m.alias,
    })),
  ];
  const where = whereParts(r, q, model, whereFilters);
  let sql = `SELECT\n  ${select.map((s) => `${s.expr} AS ${quoteIdentifier(s.alias)}`).join(',\n  ')}\nFROM ${r.from(plan)}`;
  if (where.length > 0) sql += `\nWHERE ${where.join('\n  AND ')}`;
  if (!q.ungrouped && shape.dims.length > 0 && (shape.measures.length > 0 || q.measures.length === 0)) {
    sql += `\nGROUP BY ${shape.dims.map((_d, i) => i + 1).join(', ')}`;
  }
  if (havingFilters.length > 0) {
    const having = havingFilters.map((f) => r.filterSql(f));
    sql += `\n${q.ungrouped ? 'AND' : 'HAVING'} ${having.join(' AND ')}`;
    if (q.ungrouped) throw new EngineError('ERR_QUERY_INVALID', 'Measure filters cannot be used in an ungrouped query');
  }
  return sql;
}

/**
 * Fan-out safe aggregation, as Cube's keys subquery: each multiplied cube's measures are
 * aggregated over its distinct primary keys per dimension tuple, then joined on the dimensions.
 */
function keyedSelect(
  r: Renderer,
  q: ValidatedQuery,
  model: Model,
  plan: Plan,
  shape: Shape,
  whereFilters: readonly FilterNode[],
  havingFilters: readonly FilterNode[],
  keyed: readonly string[],
): string {
  const wanted = [...new Set([...q.measures, ...havingMembers(havingFilters).filter((m) => model.cubes.get(cubeOf(m))?.measures.has(nameOf(m)))])];
  const measureAlias = new Map<string, string>();
  shape.measures.forEach((m) => measureAlias.set(m.member, m.alias));
  wanted.forEach((m, i) => {
    if (!measureAlias.has(m)) measureAlias.set(m, `__filter_${i}`);
  });
  const dimList = shape.dims.map((d) => quoteIdentifier(d.alias));
  const subqueries: { sql: string; measures: string[] }[] = [];

  const regular = wanted.filter((m) => !keyed.includes(cubeOf(m)));
  if (regular.length > 0 || keyed.length === 0) {
    const select = [
      ...shape.dims.map((d) => `${dimExpr(r, d, model)} AS ${quoteIdentifier(d.alias)}`),
      ...regular.map((m) => `${r.memberSql(cubeOf(m), nameOf(m), plan.multiplied.includes(cubeOf(m)) ? 'distinct-safe' : 'aggregate')} AS ${quoteIdentifier(measureAlias.get(m) as string)}`),
    ];
    const where = whereParts(r, q, model, whereFilters);
    let sql = `SELECT ${select.join(', ')} FROM ${r.from(plan)}`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    if (shape.dims.length > 0) sql += ` GROUP BY ${shape.dims.map((_d, i) => i + 1).join(', ')}`;
    subqueries.push({ sql, measures: regular });
  }

  for (const cube of keyed) {
    const pk = r.primaryKeySql(cube);
    if (!pk) {
      throw new EngineError('ERR_PLAN_UNSUPPORTED', `Cube ${cube} needs a primary key to aggregate measures across a one-to-many join`);
    }
    const pkAlias = '__pk';
    const keysSelect = [...shape.dims.map((d) => `${dimExpr(r, d, model)} AS ${quoteIdentifier(d.alias)}`), `${pk} AS ${quoteIdentifier(pkAlias)}`];
    const where = whereParts(r, q, model, whereFilters);
    let keys = `SELECT DISTINCT ${keysSelect.join(', ')} FROM ${r.from(plan)}`;
    if (where.length > 0) keys += ` WHERE ${where.join(' AND ')}`;
    const mine = wanted.filter((m) => cubeOf(m) === cube);
    const select = [
      ...shape.dims.map((d) => `"keys".${quoteIdentifier(d.alias)} AS ${quoteIdentifier(d.alias)}`),
      ...mine.map((m) => `${r.memberSql(cube, nameOf(m), 'aggregate')} AS ${quoteIdentifier(measureAlias.get(m) as string)}`),
    ];
    const pkCube = r.primaryKeySql(cube) as string;
    let sql = `SELECT ${select.join(', ')} FROM (${keys}) AS "keys" LEFT JOIN ${r.source(cube)} ON "keys".${quoteIdentifier(pkAlias)} = ${pkCube}`;
    if (shape.dims.length > 0) sql += ` GROUP BY ${shape.dims.map((_d, i) => i + 1).join(', ')}`;
    subqueries.push({ sql, measures: mine });
  }

  const names = subqueries.map((_s, i) => quoteIdentifier(`q_${i}`));
  const from = subqueries
    .map((s, i) => {
      if (i === 0) return `(${s.sql}) AS ${names[0]}`;
      const on = dimList.length > 0 ? dimList.map((d) => `${names[0]}.${d} IS NOT DISTINCT FROM ${names[i]}.${d}`).join(' AND ') : '1 = 1';
      return `INNER JOIN (${s.sql}) AS ${names[i]} ON ${on}`;
    })
    .join('\n');
  const owner = (m: string) => names[subqueries.findIndex((s) => s.measures.includes(m))] as string;
  const outer = [
    ...shape.dims.map((d) => `${names[0]}.${quoteIdentifier(d.alias)} AS ${quoteIdentifier(d.alias)}`),
    ...shape.measures.map((m) => `${owner(m.member)}.${quoteIdentifier(m.alias)} AS ${quoteIdentifier(m.alias)}`),
  ];
  let sql = `SELECT\n  ${outer.join(',\n  ')}\nFROM ${from}`;
  if (havingFilters.length > 0) {
    const having = havingFilters.map((f) => r.filterSql(f, (leaf) => `${owner(leaf.member)}.${quoteIdentifier(measureAlias.get(leaf.member) as string)}`));
    sql += `\nWHERE ${having.join(' AND ')}`;
  }
  return sql;
}

const INTERVAL: Record<Granularity, string> = {
  second: '1 second',
  minute: '1 minute',
  hour: '1 hour',
  day: '1 day',
  week: '1 week',
  month: '1 month',
  quarter: '3 months',
  year: '1 year',
};

/** The join condition that puts a row inside one series period's window (Cube's rollingWindowDateJoinCondition). */
function windowCondition(r: Renderer, time: string, window: Measure['rollingWindow']): string {
  const from = '"series"."date_from"';
  const to = '"series"."date_to"';
  if (!window) return `${time} >= ${from} AND ${time} <= ${to}`;
  if (window.type && window.type !== 'fixed') {
    const unit = window.type === 'to_date' ? window.granularity : window.type.replace('_to_date', '');
    if (!unit || !(unit in INTERVAL)) {
      throw new EngineError('ERR_PLAN_UNSUPPORTED', `A to_date rolling window needs a granularity such as month`);
    }
    return `${time} >= date_trunc('${unit}', ${from}) AND ${time} <= ${to}`;
  }
  const offset = window.offset ?? 'end';
  const parts: string[] = [];
  if (window.trailing !== 'unbounded') {
    const start = offset === 'start' ? from : to;
    const bound = window.trailing ? `${start} - ${r.params.add(window.trailing)}::interval` : start;
    parts.push(`${time} ${offset === 'start' ? '>=' : '>'} ${bound}`);
  }
  if (window.leading !== 'unbounded') {
    const end = offset === 'end' ? to : from;
    const bound = window.leading ? `${end} + ${r.params.add(window.leading)}::interval` : end;
    parts.push(`${time} ${offset === 'end' ? '<=' : '<'} ${bound}`);
  }
  return parts.length > 0 ? parts.join(' AND ') : '1 = 1';
}

/**
 * Rolling windows: a series of periods over the date range drives the query; each window
 * kind is aggregated over the rows inside it, and the parts are merged per period.
 */
function rollingSelect(
  r: Renderer,
  q: ValidatedQuery,
  model: Model,
  plan: Plan,
  shape: Shape,
  whereFilters: readonly FilterNode[],
  havingFilters: readonly FilterNode[],
): string {
  const grouped = q.timeDimensions.filter((t) => t.granularity);
  const td = grouped[0];
  if (grouped.length !== 1 || !td?.granularity || !td.dateRange) {
    throw new EngineError('ERR_QUERY_INVALID', 'A rolling window measure needs exactly one time dimension with a granularity and a dateRange');
  }
  if (havingFilters.length > 0) throw new EngineError('ERR_QUERY_INVALID', 'Measure filters cannot be combined with rolling window measures');
  const granularity = td.granularity;
  const interval = INTERVAL[granularity];
  const series =
    `(SELECT "d" AS "date_from", "d" + interval '${interval}' - interval '1 millisecond' AS "date_to" ` +
    `FROM generate_series(date_trunc('${granularity}', ${r.params.add(td.dateRange[0])}::timestamp), ${r.params.add(td.dateRange[1])}::timestamp, interval '${interval}') AS "d") AS "series"`;
  const time = r.timeExpr(td.dimension, undefined);
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
    const conds = [windowCondition(r, time, g.window), ...whereParts(r, rowQuery, model, whereFilters)];
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
