/**
 * The validate stage: a shape-checked wire query becomes a ValidatedQuery whose
 * members all exist in the model and whose values fit their members' types.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Dimension, Measure, Member, Model } from '../schema/model.js';
import { canonicalTimezone, isRelativeDate, localBound, resolveDateRange } from './date-range.js';
import type { WireFilter, WireQuery } from './wire-query.js';
import {
  DATE_OPERATORS,
  isBuiltInGranularity,
  type FilterNode,
  type FilterOperator,
  type FilterValue,
  type LeafFilter,
  type TimeDimension,
  type ValidatedQuery,
} from './validated-query.js';

export interface ValidateOptions {
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly defaultTimezone: string;
  readonly nowMs?: number;
}

const unknownMember = (name: string) => new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown member: ${name}`);

/** Finds `Cube.member` in the model, or throws `Unknown member: …`. */
export function findMember(model: Model, name: string): Member {
  const dot = name.indexOf('.');
  const cube = model.cubes.get(name.slice(0, dot));
  const short = name.slice(dot + 1);
  const found = cube?.measures.get(short) ?? cube?.dimensions.get(short) ?? cube?.segments.get(short);
  if (!found) throw unknownMember(name);
  return found;
}

function visible(member: Member, model: Model): boolean {
  return member.public && (model.cubes.get(member.cube)?.public ?? false);
}

/** A member the caller may name: hidden ones are refused before anything about them (kind, type) is said. */
function findVisibleMember(model: Model, name: string): Member {
  const m = findMember(model, name);
  if (!visible(m, model)) throw hidden(name);
  return m;
}

function requireMeasure(model: Model, name: string): Measure {
  const m = findVisibleMember(model, name);
  if (m.kind !== 'measure') throw new EngineError('ERR_QUERY_INVALID', `${name} is not a measure`);
  return m;
}

function requireDimension(model: Model, name: string, where: string): Dimension {
  const m = findVisibleMember(model, name);
  if (m.kind !== 'dimension') throw new EngineError('ERR_QUERY_INVALID', `${name} is not a dimension and cannot be used in ${where}`);
  return m;
}

/** A hidden member is refused exactly like an unknown one, wherever it appears, so no answer reveals that it exists. */
const hidden = (name: string) => unknownMember(name);

export const LIKE_OPS: readonly FilterOperator[] = ['contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith'];
export const COMPARE_OPS: readonly FilterOperator[] = ['equals', 'notEquals', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte'];
const NO_VALUE_OPS: readonly FilterOperator[] = ['set', 'notSet', 'measureFilter'];
const NUMERIC = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const BOOLEAN = /^(true|false|1|0)$/i;

function bad(message: string): EngineError {
  return new EngineError('ERR_QUERY_INVALID', message);
}

export function normaliseValues(raw: readonly (string | number | boolean | null)[] | undefined): FilterValue[] {
  return (raw ?? []).map((v) => (v === null ? null : String(v)));
}

export function checkValueTypes(member: Measure | Dimension, op: FilterOperator, values: readonly FilterValue[]): void {
  const type = member.kind === 'measure' ? (member.type === 'time' || member.type === 'string' || member.type === 'boolean' ? member.type : 'number') : member.type;
  const nonNull = values.filter((v): v is string => v !== null);
  if (type === 'number' && COMPARE_OPS.includes(op)) {
    const wrong = nonNull.find((v) => !NUMERIC.test(v.trim()));
    if (wrong !== undefined) throw bad(`Filter on ${member.cube}.${member.name} expects numbers`);
  }
  if (type === 'boolean' && COMPARE_OPS.includes(op)) {
    if (nonNull.some((v) => !BOOLEAN.test(v))) throw bad(`Filter on ${member.cube}.${member.name} expects true or false`);
  }
  if (type === 'time' && COMPARE_OPS.includes(op)) {
    for (const v of nonNull) localBound(v, 'UTC', 'start');
  }
}

function resolveDateValues(op: FilterOperator, values: readonly FilterValue[], zone: string, nowMs: number | undefined): FilterValue[] {
  const texts = values.filter((v): v is string => v !== null);
  if (texts.length !== values.length) throw bad(`Operator ${op} does not accept null values`);
  const relative = texts.some(isRelativeDate);
  if (relative && texts.length > 1) throw bad(`Operator ${op} takes one relative date or absolute dates, not both`);
  if (op === 'inDateRange' || op === 'notInDateRange' || op === 'onTheDate') {
    if (!relative && op !== 'onTheDate' && texts.length !== 2) throw bad(`Operator ${op} needs two dates`);
    const [from, to] = resolveDateRange(relative || op === 'onTheDate' ? (texts[0] ?? '') : texts, zone, nowMs);
    return [from, to];
  }
  if (texts.length !== 1) throw bad(`Operator ${op} needs exactly one date`);
  const text = texts[0] ?? '';
  // As Cube's BaseFilter: one absolute date is read as the start of its day (formatFromDate) for all four operators.
  if (!relative) return [localBound(text, zone, 'start')];
  // A relative value (a Tessera extension): "before" means before its start, "after" means after its end.
  const [start, end] = resolveDateRange(text, zone, nowMs);
  return [op === 'beforeDate' || op === 'afterOrOnDate' ? start : end];
}

interface FilterScope {
  readonly model: Model;
  readonly zone: string;
  readonly nowMs: number | undefined;
}

function validateFilter(f: WireFilter, scope: FilterScope, path: string): FilterNode {
  if ('and' in f || 'or' in f) {
    const kind = 'and' in f ? 'and' : 'or';
    const list = 'and' in f ? f.and : (f as { or: WireFilter[] }).or;
    const filters = list.map((c, i) => validateFilter(c, scope, `${path}.${kind}[${i}]`));
    const kinds = new Set(filters.map((c) => filterTarget(c, scope.model)));
    if (kinds.has('measure') && kinds.has('dimension')) {
      throw bad(`Filter group ${path} mixes measure and dimension filters`);
    }
    return Object.freeze({ kind, filters: Object.freeze(filters) });
  }
  const name = f.member ?? f.dimension;
  if (!name || (f.member && f.dimension)) throw bad(`Filter ${path} needs exactly one of member or dimension`);
  const member = findVisibleMember(scope.model, name);
  if (member.kind === 'segment') throw bad(`Filter ${path} cannot use segment ${name}; use segments instead`);
  const op = f.operator;
  let values = normaliseValues(f.values);
  if (!NO_VALUE_OPS.includes(op) && values.length === 0) throw bad(`Values required for filter ${path}`);
  if (member.kind === 'measure' && !(COMPARE_OPS.includes(op) || NO_VALUE_OPS.includes(op))) {
    throw bad(`Operator ${op} is not supported for measure ${name}`);
  }
  if (op === 'measureFilter' && member.kind !== 'measure') throw bad(`Operator measureFilter needs a measure, got ${name}`);
  if (LIKE_OPS.includes(op) && member.type !== 'string') throw bad(`Operator ${op} needs a string member, got ${name}`);
  if (DATE_OPERATORS.includes(op)) {
    if (member.kind !== 'dimension' || member.type !== 'time') throw bad(`Operator ${op} needs a time dimension, got ${name}`);
    values = resolveDateValues(op, values, scope.zone, scope.nowMs);
  } else {
    checkValueTypes(member, op, values);
  }
  const leaf: LeafFilter = { kind: 'leaf', member: name, operator: op, values: Object.freeze(values) };
  return Object.freeze(leaf);
}

/** Whether a filter node applies to rows (WHERE) or to groups (HAVING). */
export function filterTarget(node: FilterNode, model: Model): 'measure' | 'dimension' | 'empty' {
  if (node.kind === 'leaf') {
    const m = findMember(model, node.member);
    return m.kind === 'measure' && node.operator !== 'measureFilter' ? 'measure' : 'dimension';
  }
  const kinds = new Set(node.filters.map((c) => filterTarget(c, model)));
  kinds.delete('empty');
  return kinds.has('measure') ? 'measure' : kinds.has('dimension') ? 'dimension' : 'empty';
}

/** A granularity is valid when it is built in or defined on that time dimension, as in Cube. */
function requireGranularity(dim: Dimension, name: string, granularity: string): string {
  if (isBuiltInGranularity(granularity) || dim.granularities?.has(granularity)) return granularity;
  throw bad(`Granularity "${granularity}" does not exist in dimension ${name}`);
}

function addTimeDimension(list: TimeDimension[], td: TimeDimension): void {
  const same = list.find((t) => t.dimension === td.dimension && t.granularity === td.granularity && !t.dateRange);
  if (same && !td.dateRange) return;
  list.push(td);
}

/** Checks a shape-valid wire query against the model and resolves defaults. */
export function validateQuery(wire: WireQuery, model: Model, opts: ValidateOptions): ValidatedQuery {
  const zone = canonicalTimezone(wire.timezone ?? opts.defaultTimezone);
  const scope: FilterScope = { model, zone, nowMs: opts.nowMs };

  const measures = [...new Set(wire.measures ?? [])];
  measures.forEach((m) => requireMeasure(model, m));

  const dimensions: string[] = [];
  const timeDimensions: TimeDimension[] = [];
  // As Cube's normalizeQuery, `Cube.time.granularity` dimensions follow the explicit timeDimensions.
  const fromDimensions: TimeDimension[] = [];
  for (const name of wire.dimensions ?? []) {
    const parts = name.split('.');
    if (parts.length === 3) {
      const base = `${parts[0]}.${parts[1]}`;
      const dim = requireDimension(model, base, 'dimensions');
      if (dim.type !== 'time') throw bad(`${base} is not a time dimension, so it has no granularity`);
      const gran = requireGranularity(dim, base, parts[2] as string);
      fromDimensions.push({ dimension: base, granularity: gran });
      continue;
    }
    requireDimension(model, name, 'dimensions');
    if (!dimensions.includes(name)) dimensions.push(name);
  }

  for (const td of wire.timeDimensions ?? []) {
    const dim = requireDimension(model, td.dimension, 'timeDimensions');
    if (dim.type !== 'time') throw bad(`${td.dimension} is not a time dimension`);
    if (td.compareDateRange) throw bad('compareDateRange must be expanded before validation');
    const dateRange = td.dateRange === undefined ? undefined : resolveDateRange(td.dateRange, zone, opts.nowMs, 'utc');
    const granularity = td.granularity === undefined ? undefined : requireGranularity(dim, td.dimension, td.granularity);
    timeDimensions.push(Object.freeze({ dimension: td.dimension, granularity, dateRange }));
  }
  for (const td of fromDimensions) addTimeDimension(timeDimensions, td);

  const segments = [...new Set(wire.segments ?? [])];
  for (const s of segments) {
    const m = findVisibleMember(model, s);
    if (m.kind !== 'segment') throw bad(`${s} is not a segment`);
  }

  const filters = (wire.filters ?? []).map((f, i) => validateFilter(f, scope, `filters[${i}]`));

  const grouped = timeDimensions.filter((t) => t.granularity);
  if (measures.length === 0 && dimensions.length === 0 && grouped.length === 0) {
    throw bad('Query should contain either measures, dimensions or timeDimensions with granularities in order to be valid');
  }

  const limit = wire.limit ?? Math.min(opts.defaultLimit, opts.maxLimit);
  if (limit > opts.maxLimit) {
    throw new EngineError('ERR_QUERY_LIMIT_EXCEEDED', `The query limit has been exceeded: the maximum is ${opts.maxLimit}`);
  }

  const selectable = new Map<string, string>();
  measures.forEach((m) => selectable.set(m, m));
  dimensions.forEach((d) => selectable.set(d, d));
  for (const t of grouped) {
    selectable.set(`${t.dimension}.${t.granularity}`, `${t.dimension}.${t.granularity}`);
    if (!selectable.has(t.dimension)) selectable.set(t.dimension, `${t.dimension}.${t.granularity}`);
  }

  let order: (readonly [string, 'asc' | 'desc'])[];
  if (wire.order !== undefined) {
    const entries = Array.isArray(wire.order) ? wire.order : Object.entries(wire.order);
    order = entries.map(([key, dir]) => {
      const target = selectable.get(key);
      if (!target) {
        findVisibleMember(model, key.split('.').slice(0, 2).join('.'));
        throw bad(`Cannot order by ${key}: it is not selected in the query`);
      }
      return Object.freeze([target, dir] as const);
    });
  } else {
    order = defaultOrder(measures, dimensions, grouped);
  }

  return Object.freeze({
    measures: Object.freeze(measures),
    dimensions: Object.freeze(dimensions),
    segments: Object.freeze(segments),
    timeDimensions: Object.freeze(timeDimensions),
    filters: Object.freeze(filters),
    order: Object.freeze(order),
    limit,
    offset: wire.offset ?? 0,
    timezone: zone,
    total: wire.total ?? false,
    ungrouped: wire.ungrouped ?? false,
    responseFormat: wire.responseFormat ?? 'default',
  });
}

/** Cube's default order (BaseQuery.defaultOrder). */
function defaultOrder(
  measures: readonly string[],
  dimensions: readonly string[],
  grouped: readonly TimeDimension[],
): (readonly [string, 'asc' | 'desc'])[] {
  const firstTime = grouped[0];
  if (firstTime) return [[`${firstTime.dimension}.${firstTime.granularity}`, 'asc']];
  if (measures.length > 0 && dimensions.length > 0) return [[measures[0] as string, 'desc']];
  if (dimensions.length > 0) return [[dimensions[0] as string, 'asc']];
  return [];
}
