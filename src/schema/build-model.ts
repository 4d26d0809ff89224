/**
 * Evaluated definitions → the readonly Model: key normalisation (camelCase and snake_case),
 * `extends`, members, joins, views, access policies, then the start-up checks (a validation
 * render of every template, reference cycles, the join primary-key rule).
 */
import { ModelError, EngineError } from '../errors/engine-error.js';
import { FILTER_OPERATORS, type FilterOperator } from '../query/validated-query.js';
import type { CompileContext } from './load/compile-context.js';
import {
  setCompileContext,
  bindContextFunction,
  bindSqlTemplate,
  evaluateReferences,
  rethrowWithWhere,
  type IndexedCube,
  type MemberKind,
  type ModelIndex,
  type TemplateScope,
} from './bind-template.js';
import { isPlainObject, type RawDefinition } from './evaluate-model-file.js';
import type {
  AccessPolicy,
  CaseWhen,
  Cube,
  Dimension,
  DimensionType,
  Join,
  Measure,
  MeasureType,
  Model,
  Relationship,
  RollingWindow,
  SecurityContext,
  Segment,
  SqlTemplate,
} from './model.js';
import { RawTemplate } from './raw-template.js';
import { titleize } from './titleize.js';
import { ValidationContext } from './validation-context.js';

interface Where {
  readonly file: string;
  readonly member?: string;
}

const IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
const toCamel = (key: string) => key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const keySet = (...keys: string[]): ReadonlySet<string> => new Set(keys);

// Allowed keys per object (camelCase), a superset of Cube's validator; anything else is a typo to report.
const CUBE_KEYS = keySet(
  'sql', 'sqlTable', 'extends', 'title', 'description', 'public', 'shown', 'visible', 'meta', 'measures', 'dimensions',
  'segments', 'joins', 'preAggregations', 'accessPolicy', 'refreshKey', 'dataSource', 'sqlAlias', 'rewriteQueries',
  'hierarchies', 'folders', 'calendar',
);
const VIEW_KEYS = keySet(
  'cubes', 'includes', 'excludes', 'extends', 'title', 'description', 'public', 'shown', 'visible', 'meta',
  'accessPolicy', 'folders', 'hierarchies', 'measures', 'dimensions', 'segments', 'defaultFilters',
);
const MEASURE_KEYS = keySet(
  'type', 'sql', 'title', 'description', 'format', 'meta', 'public', 'visible', 'shown', 'filters', 'drillMembers',
  'drillMemberReferences', 'drillFilters', 'rollingWindow', 'cumulative', 'aliases', 'mask', 'multiStage', 'groupBy',
  'reduceBy', 'addGroupBy', 'timeShift', 'orderBy', 'case',
);
const DIMENSION_KEYS = keySet(
  'type', 'sql', 'title', 'description', 'format', 'meta', 'public', 'visible', 'shown', 'primaryKey', 'subQuery',
  'propagateFiltersToSubQuery', 'case', 'aliases', 'fieldType', 'valuesAsSegments', 'suggestFilterValues',
  'enableSuggestions', 'granularities', 'latitude', 'longitude', 'links', 'mask', 'multiStage', 'addGroupBy',
);
const SEGMENT_KEYS = keySet('sql', 'title', 'description', 'meta', 'public', 'visible', 'shown', 'aliases');
const JOIN_KEYS = keySet('sql', 'relationship', 'name');
const POLICY_KEYS = keySet('group', 'groups', 'role', 'conditions', 'memberLevel', 'rowLevel', 'memberMasking');
const VIEW_CUBE_KEYS = keySet('joinPath', 'prefix', 'split', 'alias', 'includes', 'excludes');
const VIEW_INCLUDE_KEYS = keySet('name', 'alias', 'title', 'description', 'format', 'meta');
const ROLLING_WINDOW_KEYS = keySet('type', 'trailing', 'leading', 'offset', 'granularity');

/** Real Cube features Tessera does not implement: loading them silently would change results or security. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  multiStage: 'multi-stage members are not supported',
  groupBy: 'multi-stage members are not supported',
  reduceBy: 'multi-stage members are not supported',
  addGroupBy: 'multi-stage members are not supported',
  timeShift: 'multi-stage members are not supported',
  orderBy: 'multi-stage members are not supported',
  memberMasking: 'member masking is not supported',
  defaultFilters: 'view default filters are not supported',
  split: 'split views are not supported',
};

interface MeasureTypeInfo {
  /** Needs a primary key when its cube takes part in a join (Cube's JoinGraph rule). */
  readonly additive: boolean;
  /** Aggregates its sql, so that sql must not reference other measures. */
  readonly aggregate: boolean;
}
const MEASURE_TYPES: Readonly<Record<MeasureType, MeasureTypeInfo>> = {
  count: { additive: true, aggregate: true },
  countDistinct: { additive: false, aggregate: true },
  countDistinctApprox: { additive: false, aggregate: true },
  sum: { additive: true, aggregate: true },
  avg: { additive: true, aggregate: true },
  min: { additive: false, aggregate: true },
  max: { additive: false, aggregate: true },
  number: { additive: true, aggregate: false },
  string: { additive: false, aggregate: false },
  time: { additive: false, aggregate: false },
  boolean: { additive: false, aggregate: false },
};
const DIMENSION_TYPES: Readonly<Record<DimensionType, true>> = { string: true, number: true, time: true, boolean: true };
const RELATIONSHIPS: Readonly<Record<string, Relationship>> = {
  belongsTo: 'belongsTo',
  belongs_to: 'belongsTo',
  many_to_one: 'belongsTo',
  manyToOne: 'belongsTo',
  hasMany: 'hasMany',
  has_many: 'hasMany',
  one_to_many: 'hasMany',
  oneToMany: 'hasMany',
  hasOne: 'hasOne',
  has_one: 'hasOne',
  one_to_one: 'hasOne',
  oneToOne: 'hasOne',
};
const MEASURE_FORMATS = keySet('percent', 'currency', 'number');
const DIMENSION_FORMATS = keySet('imageUrl', 'link', 'currency', 'percent', 'number', 'id');
const ROLLING_TYPES: Readonly<Record<NonNullable<RollingWindow['type']>, true>> = {
  fixed: true,
  to_date: true,
  year_to_date: true,
  quarter_to_date: true,
  month_to_date: true,
};
const TIME_INTERVAL = /^(unbounded|-?\d+ (second|minute|hour|day|week|month|quarter|year)s?)$/;
const OPERATORS: ReadonlySet<string> = new Set(FILTER_OPERATORS);
const VALUELESS_OPERATORS: ReadonlySet<string> = keySet('set', 'notSet');

// ---------------------------------------------------------------- reading helpers

function readKeys(value: unknown, allowed: ReadonlySet<string>, where: Where, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new ModelError(`${what} must be an object`, where);
  const out: Record<string, unknown> = {};
  const original: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    const camel = toCamel(key);
    if (!allowed.has(camel)) throw new ModelError(`unknown property '${key}' in ${what}`, where);
    if (Object.hasOwn(out, camel)) throw new ModelError(`both '${original[camel]}' and '${key}' are set in ${what}`, where);
    const unsupported = UNSUPPORTED[camel];
    if (unsupported !== undefined && v !== undefined && v !== false) throw new ModelError(`${unsupported} ('${key}')`, where);
    out[camel] = v;
    original[camel] = key;
  }
  return out;
}

function optionalString(value: unknown, where: Where, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ModelError(`${what} must be a string`, where);
  return value;
}

function optionalBoolean(value: unknown, where: Where, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ModelError(`${what} must be true or false`, where);
  return value;
}

/** Cube's `isVisible`: `public` wins, then the deprecated `visible`, then `shown`. */
function visibility(d: Record<string, unknown>, fallback: boolean, where: Where): { visible: boolean; explicitlyHidden: boolean } {
  const flag =
    optionalBoolean(d.public, where, 'public') ?? optionalBoolean(d.visible, where, 'visible') ?? optionalBoolean(d.shown, where, 'shown');
  return { visible: flag ?? fallback, explicitlyHidden: flag === false };
}

function plainData(value: unknown, where: Where, what: string): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new ModelError(`${what} must be an object`, where);
  let copy: unknown;
  try {
    copy = structuredClone(value);
  } catch (cause) {
    throw new ModelError(`${what} must be plain data`, where, cause);
  }
  return deepFreeze(copy) as Readonly<Record<string, unknown>>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function fileOf(raw: unknown, fallback: string): string {
  return raw instanceof RawTemplate ? raw.fileName : fallback;
}

/** `'it''s'`: case labels are the model author's text, written as SQL string literals. */
function sqlLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------- definitions and `extends`

interface Sourced {
  readonly raw: unknown;
  readonly file: string;
}

interface Definition {
  readonly kind: 'cube' | 'view';
  readonly name: string;
  readonly fileName: string;
  /** Top-level properties other than the member maps and lists below. */
  readonly props: Readonly<Record<string, unknown>>;
  readonly measures: ReadonlyMap<string, Sourced>;
  readonly dimensions: ReadonlyMap<string, Sourced>;
  readonly segments: ReadonlyMap<string, Sourced>;
  /** Join target → join definition. */
  readonly joins: ReadonlyMap<string, Sourced>;
  readonly accessPolicy: readonly Sourced[];
  readonly cubes: readonly Sourced[];
}

const SPLIT_KEYS = ['measures', 'dimensions', 'segments', 'joins', 'accessPolicy', 'cubes'] as const;

function memberMap(value: unknown, file: string, cube: string, what: string): Map<string, Sourced> {
  const out = new Map<string, Sourced>();
  if (value === undefined) return out;
  if (!isPlainObject(value)) throw new ModelError(`${what} must be an object of named members`, { file, member: cube });
  for (const [name, raw] of Object.entries(value)) {
    if (!IDENTIFIER.test(name)) throw new ModelError(`member name '${name}' is not an identifier`, { file, member: `${cube}.${name}` });
    out.set(name, { raw, file });
  }
  return out;
}

function joinMap(value: unknown, file: string, cube: string): Map<string, Sourced> {
  const out = new Map<string, Sourced>();
  if (value === undefined) return out;
  const add = (target: unknown, raw: unknown) => {
    if (typeof target !== 'string' || !IDENTIFIER.test(target)) {
      throw new ModelError('a join needs the name of the cube it joins', { file, member: `${cube}.joins` });
    }
    if (out.has(target)) throw new ModelError(`join to ${target} is defined more than once`, { file, member: `${cube}.joins.${target}` });
    out.set(target, { raw, file });
  };
  if (Array.isArray(value)) {
    for (const item of value) add(isPlainObject(item) ? item.name : undefined, item);
  } else if (isPlainObject(value)) {
    for (const [target, raw] of Object.entries(value)) add(target, raw);
  } else {
    throw new ModelError('joins must be an object or a list', { file, member: cube });
  }
  return out;
}

function sourcedList(value: unknown, file: string, cube: string, what: string): Sourced[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ModelError(`${what} must be a list`, { file, member: cube });
  return value.map((raw) => ({ raw, file }));
}

function ownDefinition(def: RawDefinition): Definition {
  const where = { file: def.fileName, member: def.name };
  const all = readKeys(def.definition, def.kind === 'cube' ? CUBE_KEYS : VIEW_KEYS, where, def.kind);
  if (def.kind === 'view' && (all.measures !== undefined || all.dimensions !== undefined || all.segments !== undefined)) {
    throw new ModelError('views with members of their own are not supported; include cube members instead', where);
  }
  const props: Record<string, unknown> = { ...all };
  for (const key of SPLIT_KEYS) delete props[key];
  return {
    kind: def.kind,
    name: def.name,
    fileName: def.fileName,
    props,
    measures: memberMap(all.measures, def.fileName, def.name, 'measures'),
    dimensions: memberMap(all.dimensions, def.fileName, def.name, 'dimensions'),
    segments: memberMap(all.segments, def.fileName, def.name, 'segments'),
    joins: joinMap(all.joins, def.fileName, def.name),
    accessPolicy: sourcedList(all.accessPolicy, def.fileName, def.name, 'accessPolicy'),
    cubes: sourcedList(all.cubes, def.fileName, def.name, 'cubes'),
  };
}

/** Cube's `extends`: the parent's members, joins and policies, the child's overriding; sql and sqlTable replace each other. */
function resolveExtends(own: ReadonlyMap<string, Definition>, index: ModelIndex, errors: ModelError[] | undefined): Map<string, Definition> {
  const done = new Map<string, Definition>();
  const resolve = (name: string, chain: readonly string[]): Definition => {
    const found = done.get(name);
    if (found) return found;
    const child = own.get(name) as Definition;
    if (child.props.extends === undefined) {
      done.set(name, child);
      return child;
    }
    const where = { file: child.fileName, member: name };
    const scope: TemplateScope = { index, cube: name, file: child.fileName, label: `${name}.extends` };
    const refs = evaluateReferences(child.props.extends, scope);
    const parentName = refs[0];
    if (refs.length !== 1 || parentName === undefined || !own.has(parentName)) {
      throw new ModelError(`extends must name one cube, got ${refs.join(', ') || 'nothing'}`, where);
    }
    if (chain.includes(parentName)) throw new ModelError(`extends cycle: ${[...chain, parentName].join(' -> ')}`, where);
    const parent = resolve(parentName, [...chain, parentName]);
    if (parent.kind !== child.kind) throw new ModelError(`a ${child.kind} cannot extend the ${parent.kind} ${parentName}`, where);
    const parentProps: Record<string, unknown> = { ...parent.props };
    if (child.props.sql !== undefined || child.props.sqlTable !== undefined) {
      delete parentProps.sql;
      delete parentProps.sqlTable;
    }
    const merged: Definition = {
      ...child,
      props: { ...parentProps, ...child.props },
      measures: new Map([...parent.measures, ...child.measures]),
      dimensions: new Map([...parent.dimensions, ...child.dimensions]),
      segments: new Map([...parent.segments, ...child.segments]),
      joins: new Map([...parent.joins, ...child.joins]),
      accessPolicy: [...parent.accessPolicy, ...child.accessPolicy],
      cubes: [...parent.cubes, ...child.cubes],
    };
    done.set(name, merged);
    return merged;
  };
  for (const name of own.keys()) attempt(errors, () => resolve(name, [name]));
  return done;
}

// ---------------------------------------------------------------- cubes

/** A template to render at start-up, with what it may reference. */
interface Check {
  readonly scope: TemplateScope;
  readonly template: SqlTemplate;
  /** The member that owns it (`Cube.member`), for the reference graph. */
  readonly owner?: string;
  /** Whether it may reference measures (number measures, subQuery dimensions). */
  readonly mayReferenceMeasures: boolean;
}

interface BuildState {
  readonly index: ModelIndex;
  readonly checks: Check[];
  /** `Cube.member` hidden by an explicit flag (not by the primary-key default): never re-exposed by a view's `'*'`. */
  readonly explicitlyHidden: Set<string>;
  /** `Cube.member` → its own `title`, which views keep. */
  readonly explicitTitles: Map<string, string>;
  readonly errors: ModelError[] | undefined;
}

interface MemberBase {
  readonly name: string;
  readonly cube: string;
  readonly title: string;
  readonly shortTitle: string;
  readonly description: string | undefined;
  readonly format: string | undefined;
  readonly meta: Readonly<Record<string, unknown>> | undefined;
  readonly public: boolean;
}

function memberBase(
  state: BuildState,
  d: Record<string, unknown>,
  cube: { name: string; title: string; public: boolean },
  name: string,
  where: Where,
  defaultVisible: boolean,
  formats: ReadonlySet<string>,
): MemberBase {
  const title = optionalString(d.title, where, 'title');
  const { visible, explicitlyHidden } = visibility(d, defaultVisible, where);
  const key = `${cube.name}.${name}`;
  if (explicitlyHidden) state.explicitlyHidden.add(key);
  if (title !== undefined) state.explicitTitles.set(key, title);
  const short = title ?? titleize(name);
  return {
    name,
    cube: cube.name,
    title: `${cube.title} ${short}`,
    shortTitle: short,
    description: optionalString(d.description, where, 'description'),
    format: readFormat(d.format, formats, where),
    meta: plainData(d.meta, where, 'meta'),
    public: cube.public && visible,
  };
}

function readFormat(value: unknown, allowed: ReadonlySet<string>, where: Where): string | undefined {
  if (value === undefined) return undefined;
  if (isPlainObject(value) && value.type === 'link' && allowed.has('link')) return 'link';
  if (typeof value !== 'string' || !allowed.has(value)) {
    throw new ModelError(`format must be one of ${[...allowed].join(', ')}`, where);
  }
  return value;
}

/** `'Users.city'` / `'city'` / `'Orders.Users.city'` → `Users.city`, checked against the index. */
function qualifyMember(ref: string, cube: string, index: ModelIndex, kinds: readonly MemberKind[], where: Where, what: string): string {
  const parts = ref.split('.');
  const member = parts[parts.length - 1] ?? '';
  const owner = parts.length === 1 ? cube : (parts[parts.length - 2] ?? '');
  const kind = index.get(owner)?.members.get(member);
  if (kind === undefined || !kinds.includes(kind)) throw new ModelError(`${what} ${ref} cannot be resolved`, where);
  return `${owner}.${member}`;
}

function measureType(value: unknown, where: Where): MeasureType {
  const type = typeof value === 'string' ? toCamel(value) : value;
  if (type === 'runningTotal') {
    throw new ModelError("measure type runningTotal has been removed; use rollingWindow: {trailing: 'unbounded'}", where);
  }
  if (typeof type !== 'string' || !Object.hasOwn(MEASURE_TYPES, type)) {
    throw new ModelError(`measure type must be one of ${Object.keys(MEASURE_TYPES).join(', ')}, got ${String(value)}`, where);
  }
  return type as MeasureType;
}

function readRollingWindow(value: unknown, where: Where): RollingWindow | undefined {
  if (value === undefined) return undefined;
  const d = readKeys(value, ROLLING_WINDOW_KEYS, where, 'rollingWindow');
  const type = optionalString(d.type, where, 'rollingWindow.type');
  if (type !== undefined && !Object.hasOwn(ROLLING_TYPES, type)) {
    throw new ModelError(`rollingWindow.type must be one of ${Object.keys(ROLLING_TYPES).join(', ')}`, where);
  }
  for (const key of ['trailing', 'leading'] as const) {
    const interval = optionalString(d[key], where, `rollingWindow.${key}`);
    if (interval !== undefined && !TIME_INTERVAL.test(interval)) {
      throw new ModelError(`rollingWindow.${key} must be 'unbounded' or like '7 day', got '${interval}'`, where);
    }
  }
  if (d.offset !== undefined && d.offset !== 'start' && d.offset !== 'end') {
    throw new ModelError("rollingWindow.offset must be 'start' or 'end'", where);
  }
  const granularity = optionalString(d.granularity, where, 'rollingWindow.granularity');
  if (type === 'to_date' && granularity === undefined) throw new ModelError('rollingWindow of type to_date needs a granularity', where);
  return Object.freeze({
    trailing: d.trailing as string | undefined,
    leading: d.leading as string | undefined,
    offset: d.offset as 'start' | 'end' | undefined,
    type: type as RollingWindow['type'],
    granularity,
  });
}

function buildMeasure(state: BuildState, cube: CubeHead, name: string, src: Sourced): Measure {
  const label = `${cube.name}.${name}`;
  const where = { file: src.file, member: label };
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label };
  const d = readKeys(src.raw, MEASURE_KEYS, where, 'measure');
  if (d.case !== undefined) throw new ModelError('measures with case/switch are not supported', where);
  const type = measureType(d.type, where);
  const info = MEASURE_TYPES[type];
  const sql = d.sql === undefined ? undefined : bindSqlTemplate(d.sql, scope);
  if (sql === undefined && type !== 'count') throw new ModelError(`sql is required for a ${type} measure`, where);
  if (sql) state.checks.push({ scope, template: sql, owner: label, mayReferenceMeasures: !info.aggregate });

  if (d.filters !== undefined && !Array.isArray(d.filters)) throw new ModelError('filters must be a list of {sql}', where);
  const filters = ((d.filters ?? []) as unknown[]).map((f, i) => {
    const filterScope = { ...scope, label: `${label}.filters.${i}` };
    const fd = readKeys(f, keySet('sql'), where, 'measure filter');
    if (fd.sql === undefined) throw new ModelError('a measure filter needs sql', where);
    const template = bindSqlTemplate(fd.sql, filterScope);
    state.checks.push({ scope: filterScope, template, owner: label, mayReferenceMeasures: false });
    return template;
  });

  const drillRaw = d.drillMembers ?? d.drillMemberReferences;
  const drillMembers =
    drillRaw === undefined
      ? []
      : evaluateReferences(drillRaw, { ...scope, label: `${label}.drillMembers` }).map((ref) =>
          qualifyMember(ref, cube.name, state.index, ['measure', 'dimension'], where, 'drill member'),
        );

  return Object.freeze({
    kind: 'measure',
    ...memberBase(state, d, cube, name, where, true, MEASURE_FORMATS),
    type,
    sql,
    filters: Object.freeze(filters),
    drillMembers: Object.freeze(drillMembers),
    rollingWindow: readRollingWindow(d.rollingWindow, where),
  });
}

function buildCase(state: BuildState, value: unknown, scope: TemplateScope, where: Where): Dimension['case'] & object {
  const d = readKeys(value, keySet('when', 'else'), where, 'case');
  if (!Array.isArray(d.when) || d.when.length === 0) throw new ModelError('case needs a non-empty when list', where);
  const label = (raw: unknown, at: string): CaseWhen['label'] => {
    if (typeof raw === 'string') return raw;
    const ld = readKeys(raw, keySet('sql'), where, `${at}.label`);
    const template = bindSqlTemplate(ld.sql, { ...scope, label: `${scope.label}.${at}.label` });
    state.checks.push({ scope, template, owner: scope.label, mayReferenceMeasures: false });
    return Object.freeze({ sql: template });
  };
  const when = d.when.map((w: unknown, i: number): CaseWhen => {
    const wd = readKeys(w, keySet('sql', 'label'), where, `case.when.${i}`);
    if (wd.sql === undefined || wd.label === undefined) throw new ModelError(`case.when.${i} needs sql and label`, where);
    const sql = bindSqlTemplate(wd.sql, { ...scope, label: `${scope.label}.case.when.${i}` });
    state.checks.push({ scope, template: sql, owner: scope.label, mayReferenceMeasures: false });
    return Object.freeze({ sql, label: label(wd.label, `case.when.${i}`) });
  });
  let elseLabel: { readonly label: string } | undefined;
  if (d.else !== undefined) {
    const ed = readKeys(d.else, keySet('label'), where, 'case.else');
    if (typeof ed.label !== 'string') throw new ModelError('case.else.label must be a string', where);
    elseLabel = Object.freeze({ label: ed.label });
  }
  return Object.freeze({ when: Object.freeze(when), else: elseLabel });
}

/** The SQL of a `case` dimension: `CASE WHEN (c1) THEN 'l1' … ELSE 'e' END`. */
function caseTemplate(c: NonNullable<Dimension['case']>): SqlTemplate {
  const renderLabel = (l: CaseWhen['label'], ctx: Parameters<SqlTemplate>[0]) => (typeof l === 'string' ? sqlLiteral(l) : l.sql(ctx));
  return (ctx) => {
    const whens = c.when.map((w) => `WHEN (${w.sql(ctx)}) THEN ${renderLabel(w.label, ctx)}`).join(' ');
    const otherwise = c.else ? ` ELSE ${sqlLiteral(c.else.label)}` : '';
    return `CASE ${whens}${otherwise} END`;
  };
}

function buildDimension(state: BuildState, cube: CubeHead, name: string, src: Sourced): Dimension {
  const label = `${cube.name}.${name}`;
  const where = { file: src.file, member: label };
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label };
  const d = readKeys(src.raw, DIMENSION_KEYS, where, 'dimension');
  if (typeof d.type !== 'string' || !Object.hasOwn(DIMENSION_TYPES, d.type)) {
    throw new ModelError(`dimension type must be one of ${Object.keys(DIMENSION_TYPES).join(', ')}, got ${String(d.type)}`, where);
  }
  const type = d.type as DimensionType;
  const primaryKey = optionalBoolean(d.primaryKey, where, 'primaryKey') ?? false;
  const subQuery = optionalBoolean(d.subQuery, where, 'subQuery') ?? false;
  optionalBoolean(d.propagateFiltersToSubQuery, where, 'propagateFiltersToSubQuery');
  let sql: SqlTemplate;
  let caseDef: Dimension['case'];
  if (d.case !== undefined) {
    if (d.sql !== undefined) throw new ModelError('a dimension has either sql or case, not both', where);
    caseDef = buildCase(state, d.case, scope, where);
    sql = caseTemplate(caseDef);
  } else {
    if (d.sql === undefined) throw new ModelError('sql is required for a dimension', where);
    sql = bindSqlTemplate(d.sql, scope);
    state.checks.push({ scope, template: sql, owner: label, mayReferenceMeasures: subQuery });
  }
  return Object.freeze({
    kind: 'dimension',
    ...memberBase(state, d, cube, name, where, !primaryKey, DIMENSION_FORMATS),
    type,
    sql,
    primaryKey,
    case: caseDef,
    subQuery,
  });
}

function buildSegment(state: BuildState, cube: CubeHead, name: string, src: Sourced): Segment {
  const label = `${cube.name}.${name}`;
  const where = { file: src.file, member: label };
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label };
  const d = readKeys(src.raw, SEGMENT_KEYS, where, 'segment');
  if (d.sql === undefined) throw new ModelError('sql is required for a segment', where);
  const sql = bindSqlTemplate(d.sql, scope);
  state.checks.push({ scope, template: sql, owner: label, mayReferenceMeasures: false });
  return Object.freeze({ kind: 'segment', ...memberBase(state, d, cube, name, where, true, new Set()), sql });
}

function buildJoin(state: BuildState, cube: CubeHead, target: string, src: Sourced): Join {
  const label = `${cube.name}.joins.${target}`;
  const where = { file: src.file, member: label };
  const d = readKeys(src.raw, JOIN_KEYS, where, 'join');
  if (state.index.get(target)?.kind !== 'cube') throw new ModelError(`join target ${target} is not a cube`, where);
  if (target === cube.name) throw new ModelError('a cube cannot join itself', where);
  const relationship = typeof d.relationship === 'string' && Object.hasOwn(RELATIONSHIPS, d.relationship) ? RELATIONSHIPS[d.relationship] : undefined;
  if (relationship === undefined) {
    throw new ModelError(`join relationship must be one of ${Object.keys(RELATIONSHIPS).join(', ')}, got ${String(d.relationship)}`, where);
  }
  if (d.sql === undefined) throw new ModelError('a join needs sql', where);
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label };
  const sql = bindSqlTemplate(d.sql, scope);
  state.checks.push({ scope, template: sql, mayReferenceMeasures: false });
  return Object.freeze({ from: cube.name, to: target, relationship, sql });
}

interface CubeHead {
  readonly name: string;
  readonly title: string;
  readonly public: boolean;
}

function cubeHead(def: Definition): CubeHead & { description: string | undefined; meta: Readonly<Record<string, unknown>> | undefined } {
  const where = { file: def.fileName, member: def.name };
  return {
    name: def.name,
    title: optionalString(def.props.title, where, 'title') ?? titleize(def.name),
    public: visibility(def.props, true, where).visible,
    description: optionalString(def.props.description, where, 'description'),
    meta: plainData(def.props.meta, where, 'meta'),
  };
}

function buildCube(state: BuildState, def: Definition): Cube {
  const where = { file: def.fileName, member: def.name };
  const head = cubeHead(def);
  const { sql, sqlTable, dataSource } = def.props;
  if (dataSource !== undefined && dataSource !== 'default') throw new ModelError('only the default data source is supported', where);
  if ((sql === undefined) === (sqlTable === undefined)) {
    throw new ModelError('You must use either sql or sqlTable within a model, but not both', where);
  }
  const sourceRaw = sql ?? sqlTable;
  const scope: TemplateScope = { index: state.index, cube: def.name, file: fileOf(sourceRaw, def.fileName), label: `${def.name}.${sql !== undefined ? 'sql' : 'sqlTable'}` };
  const sourceSql = bindSqlTemplate(sourceRaw, scope);
  state.checks.push({ scope, template: sourceSql, mayReferenceMeasures: false });
  (state.index.get(def.name) as IndexedCube).source = sourceSql;

  // Each member on its own, so that `tessera validate` reports every broken member.
  const each = <T,>(entries: ReadonlyMap<string, Sourced>, build: (name: string, src: Sourced) => T): [string, T][] =>
    [...entries].flatMap(([n, src]) => {
      const member = attempt(state.errors, () => build(n, src));
      return member === undefined ? [] : [[n, member] as [string, T]];
    });
  const measures = new Map(each(def.measures, (n, src) => buildMeasure(state, head, n, src)));
  const dimensions = new Map(each(def.dimensions, (n, src) => buildDimension(state, head, n, src)));
  const segments = new Map(each(def.segments, (n, src) => buildSegment(state, head, n, src)));
  const joins = each(def.joins, (target, src) => buildJoin(state, head, target, src)).map(([, j]) => j);
  return {
    name: def.name,
    fileName: def.fileName,
    kind: 'cube',
    title: head.title,
    description: head.description,
    public: head.public,
    source: Object.freeze(sql !== undefined ? { kind: 'sql' as const, sql: sourceSql } : { kind: 'table' as const, sql: sourceSql }),
    measures,
    dimensions,
    segments,
    joins: Object.freeze(joins),
    meta: head.meta,
  };
}

// ---------------------------------------------------------------- views

interface ViewEntry {
  readonly viewName: string;
  readonly member: string;
  readonly joinPath: readonly string[];
  readonly override: { title?: string; description?: string; format?: string; meta?: Readonly<Record<string, unknown>> };
}

function joinPathOf(state: BuildState, cubes: ReadonlyMap<string, Cube>, refs: readonly string[], where: Where): string[] {
  const path = refs.length === 1 ? (refs[0] as string).split('.') : [];
  if (path.length === 0 || path.some((p) => !p)) throw new ModelError('join_path must be one cube path like Orders.Users', where);
  path.forEach((name, i) => {
    if (state.index.get(name)?.kind !== 'cube') throw new ModelError(`join_path names ${name}, which is not a cube`, where);
    const next = path[i + 1];
    if (next !== undefined && !cubes.get(name)?.joins.some((j) => j.to === next)) {
      throw new ModelError(`join_path ${path.join('.')}: ${name} has no join to ${next}`, where);
    }
  });
  return path;
}

function memberOf(cube: Cube, name: string): Measure | Dimension | Segment | undefined {
  return cube.measures.get(name) ?? cube.dimensions.get(name) ?? cube.segments.get(name);
}

function viewEntries(state: BuildState, def: Definition, cubes: ReadonlyMap<string, Cube>): ViewEntry[] {
  const entries: ViewEntry[] = [];
  def.cubes.forEach((src, i) => {
    const where = { file: src.file, member: `${def.name}.cubes.${i}` };
    const d = readKeys(src.raw, VIEW_CUBE_KEYS, where, 'view cube');
    const scope: TemplateScope = { index: state.index, cube: def.name, file: src.file, label: where.member };
    if (d.joinPath === undefined) throw new ModelError('join_path is required', where);
    const joinPath = joinPathOf(state, cubes, evaluateReferences(d.joinPath, scope), where);
    const targetName = joinPath[joinPath.length - 1] as string;
    const target = cubes.get(targetName) as Cube;
    const prefix = optionalBoolean(d.prefix, where, 'prefix') ?? false;
    const alias = optionalString(d.alias, where, 'alias');
    const viewName = (member: string) => (prefix ? `${alias ?? targetName}_${member}` : member);

    const excludes = d.excludes === undefined ? [] : d.excludes;
    if (!Array.isArray(excludes) || !excludes.every((e): e is string => typeof e === 'string')) {
      throw new ModelError('excludes must be a list of member names', where);
    }
    for (const name of excludes) {
      if (name.includes('.')) throw new ModelError(`Paths aren't allowed in cube excludes but '${name}' provided as exclude member`, where);
      // A mistyped exclude would silently expose the member it meant to hide.
      if (!memberOf(target, name)) throw new ModelError(`excluded member '${name}' is not defined in ${targetName}`, where);
    }
    const excluded = new Set(excludes);

    let picked: { member: string; name: string; override: ViewEntry['override'] }[];
    if (d.includes === '*') {
      // Unlike Cube (#11228), '*' never re-exposes a member its cube hides.
      picked = [...target.measures.keys(), ...target.dimensions.keys(), ...target.segments.keys()]
        .filter((m) => !state.explicitlyHidden.has(`${targetName}.${m}`))
        .map((m) => ({ member: m, name: viewName(m), override: {} }));
    } else if (Array.isArray(d.includes)) {
      picked = d.includes.map((inc: unknown) => {
        const id = typeof inc === 'string' ? { name: inc } : readKeys(inc, VIEW_INCLUDE_KEYS, where, 'view include');
        if (typeof id.name !== 'string') throw new ModelError('an include needs a member name', where);
        if (id.name.includes('.')) throw new ModelError(`Paths aren't allowed in cube includes but '${id.name}' provided as include member`, where);
        if (!memberOf(target, id.name)) {
          throw new ModelError(`Member '${id.name}' is included in '${def.name}' but not defined in any cube`, where);
        }
        const aliasName = optionalString(id.alias, where, 'alias');
        if (aliasName !== undefined && !IDENTIFIER.test(aliasName)) throw new ModelError(`alias '${aliasName}' is not an identifier`, where);
        return {
          member: id.name,
          name: viewName(aliasName ?? id.name),
          override: {
            title: optionalString(id.title, where, 'title'),
            description: optionalString(id.description, where, 'description'),
            format: id.format === undefined ? undefined : readFormat(id.format, new Set([...MEASURE_FORMATS, ...DIMENSION_FORMATS]), where),
            meta: plainData(id.meta, where, 'meta'),
          },
        };
      });
    } else {
      throw new ModelError("includes must be '*' or a list of member names", where);
    }
    for (const p of picked) {
      if (!excluded.has(p.member)) entries.push({ viewName: p.name, member: p.member, joinPath, override: p.override });
    }
  });

  // Cube's older form: top-level `includes: [Orders.count, Users.city]`.
  if (def.props.includes !== undefined) {
    const where = { file: def.fileName, member: `${def.name}.includes` };
    const scope: TemplateScope = { index: state.index, cube: def.name, file: def.fileName, label: where.member };
    const excludes = new Set(def.props.excludes === undefined ? [] : evaluateReferences(def.props.excludes, scope));
    for (const ref of evaluateReferences(def.props.includes, scope)) {
      if (excludes.has(ref)) continue;
      const parts = ref.split('.');
      const member = parts.pop() as string;
      const joinPath = joinPathOf(state, cubes, [parts.join('.')], where);
      if (!memberOf(cubes.get(joinPath[joinPath.length - 1] as string) as Cube, member)) {
        throw new ModelError(`Member '${ref}' is included in '${def.name}' but not defined in any cube`, where);
      }
      entries.push({ viewName: member, member, joinPath, override: {} });
    }
  }
  return entries;
}

function buildView(state: BuildState, def: Definition, cubes: ReadonlyMap<string, Cube>): Cube {
  const head = cubeHead(def);
  const measures = new Map<string, Measure>();
  const dimensions = new Map<string, Dimension>();
  const segments = new Map<string, Segment>();
  const viewMembers = new Map<string, { cube: string; member: string; joinPath: readonly string[] }>();
  const indexed = new Map<string, MemberKind>();

  for (const entry of viewEntries(state, def, cubes)) {
    const where = { file: def.fileName, member: `${def.name}.${entry.viewName}` };
    if (viewMembers.has(entry.viewName)) {
      throw new ModelError(
        `Included member '${entry.viewName}' conflicts with existing member of '${def.name}'. Please consider excluding this member or assigning it an alias.`,
        where,
      );
    }
    const cubeName = entry.joinPath[entry.joinPath.length - 1] as string;
    const original = memberOf(cubes.get(cubeName) as Cube, entry.member) as Measure | Dimension | Segment;
    const short = entry.override.title ?? state.explicitTitles.get(`${cubeName}.${entry.member}`) ?? titleize(entry.viewName);
    const base: MemberBase = {
      name: entry.viewName,
      cube: def.name,
      title: `${head.title} ${short}`,
      shortTitle: short,
      description: entry.override.description ?? original.description,
      format: entry.override.format ?? original.format,
      meta: entry.override.meta ?? original.meta,
      public: head.public,
    };
    const sql: SqlTemplate = (ctx) => ctx.memberRef(cubeName, entry.member);
    viewMembers.set(entry.viewName, Object.freeze({ cube: cubeName, member: entry.member, joinPath: Object.freeze([...entry.joinPath]) }));
    indexed.set(entry.viewName, original.kind);
    if (original.kind === 'measure') {
      const calculated = original.type === 'string' || original.type === 'time' || original.type === 'boolean';
      measures.set(entry.viewName, Object.freeze({
        kind: 'measure',
        ...base,
        type: calculated ? original.type : 'number',
        aggType: original.type,
        sql,
        filters: Object.freeze([]),
        drillMembers: original.drillMembers,
      }));
    } else if (original.kind === 'dimension') {
      dimensions.set(entry.viewName, Object.freeze({ kind: 'dimension', ...base, type: original.type, sql, primaryKey: false, subQuery: false }));
    } else {
      segments.set(entry.viewName, Object.freeze({ kind: 'segment', ...base, sql }));
    }
  }
  state.index.set(def.name, { kind: 'view', members: indexed });
  const name = def.name;
  return {
    name,
    fileName: def.fileName,
    kind: 'view',
    title: head.title,
    description: head.description,
    public: head.public,
    source: Object.freeze({
      kind: 'sql' as const,
      sql: () => {
        throw new EngineError('ERR_PLAN_UNSUPPORTED', `View ${name} has no SQL source; plan its members through viewMembers`);
      },
    }),
    measures,
    dimensions,
    segments,
    joins: Object.freeze([]),
    viewMembers,
    meta: head.meta,
  };
}

// ---------------------------------------------------------------- access policies

type PolicyFilter = (securityContext: SecurityContext) => unknown;

function buildPolicyFilter(state: BuildState, cube: Cube, raw: unknown, where: Where, scope: TemplateScope, at: string): PolicyFilter {
  const d = readKeys(raw, keySet('member', 'memberReference', 'operator', 'values', 'and', 'or'), where, at);
  for (const kind of ['and', 'or'] as const) {
    if (d[kind] === undefined) continue;
    const children = d[kind];
    if (d.member !== undefined || d.and !== undefined && d.or !== undefined || !Array.isArray(children) || children.length === 0) {
      throw new ModelError(`${at} must have either a non-empty ${kind} list or a member`, where);
    }
    const built = children.map((c: unknown, i: number) => buildPolicyFilter(state, cube, c, where, scope, `${at}.${kind}.${i}`));
    return (sc) => Object.freeze({ [kind]: Object.freeze(built.map((f) => f(sc))) });
  }
  if (d.member === undefined) throw new ModelError(`${at} needs a member`, where);
  const refs = evaluateReferences(d.member, { ...scope, label: `${scope.label}.${at}.member` });
  if (refs.length !== 1) throw new ModelError(`${at}.member must be one member`, where);
  const ref = refs[0] as string;
  const member = qualifyMember(ref, cube.name, state.index, ['dimension'], where, `${at}.member`);
  if (!member.startsWith(`${cube.name}.`)) throw new ModelError(`${at}.member ${ref} is not a dimension of ${cube.name}`, where);
  if (typeof d.operator !== 'string' || !OPERATORS.has(d.operator)) {
    throw new ModelError(`${at}.operator must be one of ${FILTER_OPERATORS.join(', ')}`, where);
  }
  const operator = d.operator as FilterOperator;
  if (d.values === undefined && !VALUELESS_OPERATORS.has(operator)) throw new ModelError(`${at} needs values`, where);
  const values = d.values === undefined ? undefined : bindContextFunction(d.values, { ...scope, label: `${scope.label}.${at}.values` });
  return (sc) => {
    if (!values) return Object.freeze({ member, operator });
    const v = values(sc);
    return Object.freeze({ member, operator, values: Array.isArray(v) ? Object.freeze([...v]) : v });
  };
}

function memberList(value: unknown, cube: Cube, where: Where, what: string): '*' | readonly string[] {
  if (value === '*') return '*';
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new ModelError(`${what} must be '*' or a list of member names`, where);
  }
  return Object.freeze(
    value.map((name) => {
      if (name.includes('.')) throw new ModelError(`Paths aren't allowed in the accessPolicy policy but '${name}' provided as ${what}`, where);
      if (!memberOf(cube, name)) throw new ModelError(`${what} member '${name}' is not defined in ${cube.name}`, where);
      return `${cube.name}.${name}`;
    }),
  );
}

function buildPolicy(state: BuildState, cube: Cube, src: Sourced, i: number): AccessPolicy {
  const where = { file: src.file, member: `${cube.name}.accessPolicy.${i}` };
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label: where.member };
  const d = readKeys(src.raw, POLICY_KEYS, where, 'access policy');
  if (d.role !== undefined) throw new ModelError("'role' is no longer supported in access policies; use 'group' or 'groups'", where);
  if (d.group !== undefined && d.groups !== undefined) {
    throw new ModelError("Access policy cannot have both 'group' and 'groups' properties.", where);
  }
  let groups: string[];
  if (typeof d.group === 'string') groups = [d.group];
  else if (Array.isArray(d.groups) && d.groups.length > 0 && d.groups.every((g) => typeof g === 'string')) groups = [...(d.groups as string[])];
  else throw new ModelError("Access policy needs 'group' (a string) or 'groups' (a non-empty list of strings)", where);

  if (d.conditions !== undefined && !Array.isArray(d.conditions)) throw new ModelError('conditions must be a list of {if}', where);
  const conditions = ((d.conditions ?? []) as unknown[]).map((c, j) => {
    const cd = readKeys(c, keySet('if'), where, `conditions.${j}`);
    if (cd.if === undefined) throw new ModelError(`conditions.${j} needs if`, where);
    return bindContextFunction(cd.if, { ...scope, label: `${scope.label}.conditions.${j}` });
  });

  let memberLevel: AccessPolicy['memberLevel'];
  if (d.memberLevel !== undefined) {
    const md = readKeys(d.memberLevel, keySet('includes', 'excludes'), where, 'memberLevel');
    const all = [...cube.measures.keys(), ...cube.dimensions.keys(), ...cube.segments.keys()].map((m) => `${cube.name}.${m}`);
    const excludes = md.excludes === undefined ? [] : memberList(md.excludes, cube, where, 'excludes');
    memberLevel = Object.freeze({
      includes: md.includes === undefined ? '*' : memberList(md.includes, cube, where, 'includes'),
      excludes: excludes === '*' ? Object.freeze(all) : excludes,
    });
  }

  let rowLevel: AccessPolicy['rowLevel'];
  if (d.rowLevel !== undefined) {
    const rd = readKeys(d.rowLevel, keySet('filters', 'allowAll'), where, 'rowLevel');
    if ((rd.filters === undefined) === (rd.allowAll === undefined)) {
      throw new ModelError('rowLevel needs exactly one of filters and allowAll', where);
    }
    if (rd.allowAll !== undefined) {
      if (rd.allowAll !== true) throw new ModelError('rowLevel.allowAll can only be true', where);
      rowLevel = Object.freeze({ allowAll: true as const });
    } else {
      if (!Array.isArray(rd.filters)) throw new ModelError('rowLevel.filters must be a list', where);
      const filters = rd.filters.map((f: unknown, j: number) => buildPolicyFilter(state, cube, f, where, scope, `rowLevel.filters.${j}`));
      rowLevel = Object.freeze({ filters: (sc: SecurityContext) => Object.freeze(filters.map((f) => f(sc))) });
    }
  }
  return Object.freeze({ groups: Object.freeze(groups), conditions: Object.freeze(conditions), memberLevel, rowLevel });
}

// ---------------------------------------------------------------- start-up checks

/** Cube's JoinGraph rule: without a primary key, aggregates over a join cannot be de-duplicated. */
function checkJoinPrimaryKeys(cubes: ReadonlyMap<string, Cube>, errors: ModelError[] | undefined): void {
  const needsKey = (cube: Cube) =>
    ![...cube.dimensions.values()].some((d) => d.primaryKey) && [...cube.measures.values()].some((m) => MEASURE_TYPES[m.type].additive);
  for (const cube of cubes.values()) {
    for (const join of cube.joins) {
      for (const end of [cube, cubes.get(join.to)]) {
        if (end && needsKey(end)) attempt(errors, () => {
          throw new ModelError(
            `primary key for '${end.name}' is required when join is defined in order to make aggregates work properly`,
            { file: end.fileName, member: end.name },
          );
        });
      }
    }
  }
}

/** Renders every template once, so unknown references fail now; returns the member reference graph. */
function validationRender(state: BuildState): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const check of state.checks) {
    const ctx = new ValidationContext();
    try {
      check.template(ctx);
    } catch (cause) {
      // Code over a raw context value (unsafeValue) cannot be judged without a real context.
      if (!(cause instanceof ModelError) && ctx.usedUnsafeValue) continue;
      attempt(state.errors, () => {
        throw rethrowWithWhere(cause, check.scope);
      });
      continue;
    }
    for (const ref of ctx.memberRefs) {
      const [refCube = '', refMember = ''] = ref.split('.');
      if (!check.mayReferenceMeasures && state.index.get(refCube)?.members.get(refMember) === 'measure') {
        attempt(state.errors, () => {
          throw new ModelError(
          `references measure ${ref}, which only number measures and subQuery dimensions may do`,
          { file: check.scope.file, member: check.scope.label },
          );
        });
        continue;
      }
      if (check.owner !== undefined) {
        const edges = graph.get(check.owner) ?? new Set<string>();
        edges.add(ref);
        graph.set(check.owner, edges);
      }
    }
  }
  return graph;
}

function checkCycles(graph: ReadonlyMap<string, ReadonlySet<string>>, cubes: ReadonlyMap<string, Cube>): void {
  const done = new Set<string>();
  const visit = (node: string, stack: string[]) => {
    if (done.has(node)) return;
    const at = stack.indexOf(node);
    if (at >= 0) {
      const [cube = ''] = node.split('.');
      throw new ModelError(`circular reference: ${[...stack.slice(at), node].join(' -> ')}`, {
        file: cubes.get(cube)?.fileName ?? '',
        member: node,
      });
    }
    for (const next of graph.get(node) ?? []) visit(next, [...stack, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
}

// ---------------------------------------------------------------- entry point

/** Builds the Model from evaluated definitions (in load order). */
export interface BuildOptions {
  readonly compileContext?: CompileContext;
  /** The digest of the model files. */
  readonly version?: string;
  /** When given, errors are collected here and building goes on as far as it can. */
  readonly errors?: ModelError[];
}

export function buildModel(definitions: readonly RawDefinition[], options: BuildOptions = {}): Model {
  const { errors } = options;
  const own = new Map<string, Definition>();
  const index: ModelIndex = new Map();
  if (options.compileContext) setCompileContext(index, options.compileContext);
  for (const raw of definitions) {
    attempt(errors, () => {
      const previous = own.get(raw.name);
      if (previous) {
        throw new ModelError(`${raw.kind} ${raw.name} is already defined in ${previous.fileName}`, { file: raw.fileName, member: raw.name });
      }
      index.set(raw.name, { kind: raw.kind, members: new Map() });
      own.set(raw.name, ownDefinition(raw));
    });
  }
  const defs = resolveExtends(own, index, errors);

  for (const def of defs.values()) {
    if (def.kind !== 'cube') continue;
    const members = new Map<string, MemberKind>();
    const kinds = [['measure', def.measures], ['dimension', def.dimensions], ['segment', def.segments]] as const;
    for (const [kind, map] of kinds) {
      for (const [name, src] of map) {
        attempt(errors, () => {
          if (members.has(name)) throw new ModelError(`${name} defined more than once`, { file: src.file, member: `${def.name}.${name}` });
          members.set(name, kind);
        });
      }
    }
    index.set(def.name, { kind: 'cube', members });
  }

  const state: BuildState = { index, checks: [], explicitlyHidden: new Set(), explicitTitles: new Map(), errors };
  const built = new Map<string, Cube>();
  for (const def of defs.values()) {
    if (def.kind !== 'cube') continue;
    const cube = attempt(errors, () => buildCube(state, def));
    if (cube) built.set(def.name, cube);
  }
  for (const def of defs.values()) {
    if (def.kind !== 'view') continue;
    const view = attempt(errors, () => buildView(state, def, built));
    if (view) built.set(def.name, view);
  }

  const cubes = new Map<string, Cube>();
  for (const def of defs.values()) {
    const cube = built.get(def.name);
    if (!cube) continue;
    const accessPolicy = attempt(errors, () =>
      def.accessPolicy.length > 0 ? Object.freeze(def.accessPolicy.map((src, i) => buildPolicy(state, cube, src, i))) : undefined,
    );
    cubes.set(def.name, Object.freeze({ ...cube, accessPolicy }));
  }

  checkJoinPrimaryKeys(cubes, errors);
  const graph = validationRender(state);
  attempt(errors, () => checkCycles(graph, cubes));
  return Object.freeze({ cubes, version: options.version });
}

/** Runs `fn`; with an error list, a ModelError is recorded instead of thrown. */
function attempt<T>(errors: ModelError[] | undefined, fn: () => T): T | undefined {
  if (!errors) return fn();
  try {
    return fn();
  } catch (cause) {
    if (!(cause instanceof ModelError)) throw cause;
    errors.push(cause);
    return undefined;
  }
}
