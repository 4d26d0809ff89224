/**
 * Measures, dimensions, segments and joins of a cube, each read, bound to its templates and queued for the start-up checks.
 */
import { ModelError } from '../../errors/engine-error.js';
import { bindSqlTemplate, evaluateReferences, type TemplateScope } from '../bind-template.js';
import { isPlainObject } from '../evaluate-model-file.js';
import type {
  CaseWhen,
  Dimension,
  DimensionType,
  Join,
  Measure,
  MeasureType,
  RollingWindow,
  Segment,
  SqlTemplate,
} from '../model.js';
import { titleize } from '../titleize.js';
import type { BuildState, Sourced } from './build-state.js';
import {
  DIMENSION_FORMATS,
  DIMENSION_TYPES,
  MEASURE_FORMATS,
  MEASURE_TYPES,
  RELATIONSHIPS,
  ROLLING_TYPES,
  TIME_INTERVAL,
} from './member-types.js';
import {
  keySet,
  optionalBoolean,
  optionalString,
  plainData,
  qualifyMember,
  readKeys,
  sqlLiteral,
  toCamel,
  visibility,
  type Where,
} from './read-helpers.js';
import { readGranularities } from './cube-extras.js';
import type { CubeHead } from './definitions.js';

export const MEASURE_KEYS = keySet(
  'type', 'sql', 'title', 'description', 'format', 'currency', 'meta', 'public', 'visible', 'shown', 'filters', 'drillMembers',
  'drillMemberReferences', 'drillFilters', 'rollingWindow', 'cumulative', 'aliases', 'mask', 'multiStage', 'groupBy',
  'reduceBy', 'addGroupBy', 'timeShift', 'orderBy', 'case',
);
export const DIMENSION_KEYS = keySet(
  'type', 'sql', 'title', 'description', 'format', 'currency', 'meta', 'public', 'visible', 'shown', 'primaryKey', 'subQuery',
  'propagateFiltersToSubQuery', 'case', 'aliases', 'fieldType', 'valuesAsSegments', 'suggestFilterValues',
  'enableSuggestions', 'granularities', 'latitude', 'longitude', 'links', 'mask', 'multiStage', 'addGroupBy',
);
export const SEGMENT_KEYS = keySet('sql', 'title', 'description', 'meta', 'public', 'visible', 'shown', 'aliases');
export const JOIN_KEYS = keySet('sql', 'relationship', 'name');
export const ROLLING_WINDOW_KEYS = keySet('type', 'trailing', 'leading', 'offset', 'granularity');

export interface MemberBase {
  readonly name: string;
  readonly cube: string;
  readonly title: string;
  readonly shortTitle: string;
  readonly description: string | undefined;
  readonly format: string | undefined;
  readonly currency?: string | undefined;
  readonly meta: Readonly<Record<string, unknown>> | undefined;
  readonly public: boolean;
}

export function memberBase(
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
  // Hidden by its own flags or by default (a primary key): a view's '*' must not re-expose it.
  if (explicitlyHidden || !visible) state.explicitlyHidden.add(key);
  if (title !== undefined) state.explicitTitles.set(key, title);
  const short = title ?? titleize(name);
  return {
    name,
    cube: cube.name,
    title: `${cube.title} ${short}`,
    shortTitle: short,
    description: optionalString(d.description, where, 'description'),
    format: readFormat(d.format, formats, where),
    currency: readCurrency(d.currency, where),
    meta: plainData(d.meta, where, 'meta'),
    public: cube.public && visible,
  };
}

export function readFormat(value: unknown, allowed: ReadonlySet<string>, where: Where): string | undefined {
  if (value === undefined) return undefined;
  if (isPlainObject(value) && value.type === 'link' && allowed.has('link')) return 'link';
  // `number_2`: a number with that many decimals (Cube 1.x).
  if (typeof value !== 'string' || (!allowed.has(value) && !(allowed.has('number') && /^number_\d$/.test(value)))) {
    throw new ModelError(`format must be one of ${[...allowed].join(', ')}, number_0 … number_9`, where);
  }
  return value;
}

/** `currency: USD` next to `format: currency`: an ISO 4217 code. */
function readCurrency(value: unknown, where: Where): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z]{3}$/.test(value)) throw new ModelError('currency must be a three-letter ISO 4217 code like USD', where);
  return value.toUpperCase();
}

export function measureType(value: unknown, where: Where): MeasureType {
  const type = typeof value === 'string' ? toCamel(value) : value;
  if (type === 'runningTotal') {
    throw new ModelError("measure type runningTotal has been removed; use rollingWindow: {trailing: 'unbounded'}", where);
  }
  if (typeof type !== 'string' || !Object.hasOwn(MEASURE_TYPES, type)) {
    throw new ModelError(`measure type must be one of ${Object.keys(MEASURE_TYPES).join(', ')}, got ${String(value)}`, where);
  }
  return type as MeasureType;
}

export function readRollingWindow(value: unknown, where: Where): RollingWindow | undefined {
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

export function buildMeasure(state: BuildState, cube: CubeHead, name: string, src: Sourced): Measure {
  const label = `${cube.name}.${name}`;
  const where = { file: src.file, member: label };
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label };
  const d = readKeys(src.raw, MEASURE_KEYS, where, 'measure');
  if (d.case !== undefined) throw new ModelError('measures with case/switch are not supported', where);
  const type = measureType(d.type, where);
  const info = MEASURE_TYPES[type];
  const sql = d.sql === undefined ? undefined : bindSqlTemplate(d.sql, scope);
  if (sql === undefined && type !== 'count') throw new ModelError(`sql is required for a ${type} measure`, where);
  if (sql) state.checks.push({ scope, template: sql, owner: label, mayReferenceMeasures: !info.aggregate, aggregating: info.aggregate });

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

export function buildCase(state: BuildState, value: unknown, scope: TemplateScope, where: Where): Dimension['case'] & object {
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
export function caseTemplate(c: NonNullable<Dimension['case']>): SqlTemplate {
  const renderLabel = (l: CaseWhen['label'], ctx: Parameters<SqlTemplate>[0]) => (typeof l === 'string' ? sqlLiteral(l) : l.sql(ctx));
  return (ctx) => {
    const whens = c.when.map((w) => `WHEN (${w.sql(ctx)}) THEN ${renderLabel(w.label, ctx)}`).join(' ');
    const otherwise = c.else ? ` ELSE ${sqlLiteral(c.else.label)}` : '';
    return `CASE ${whens}${otherwise} END`;
  };
}

export function buildDimension(state: BuildState, cube: CubeHead, name: string, src: Sourced): Dimension {
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
    granularities: readGranularities(d.granularities, type, where),
  });
}

export function buildSegment(state: BuildState, cube: CubeHead, name: string, src: Sourced): Segment {
  const label = `${cube.name}.${name}`;
  const where = { file: src.file, member: label };
  const scope: TemplateScope = { index: state.index, cube: cube.name, file: src.file, label };
  const d = readKeys(src.raw, SEGMENT_KEYS, where, 'segment');
  if (d.sql === undefined) throw new ModelError('sql is required for a segment', where);
  const sql = bindSqlTemplate(d.sql, scope);
  state.checks.push({ scope, template: sql, owner: label, mayReferenceMeasures: false });
  return Object.freeze({ kind: 'segment', ...memberBase(state, d, cube, name, where, true, new Set()), sql });
}

export function buildJoin(state: BuildState, cube: CubeHead, target: string, src: Sourced): Join {
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

