/**
 * Cube keys that describe rather than compute, read with Cube's meaning and checked:
 * `refresh_key`, `data_source`, `hierarchies`, `folders`, `pre_aggregations`, and a time
 * dimension's custom `granularities`. A value Tessera cannot honour is a load-time error.
 */
import { ModelError } from '../../errors/engine-error.js';
import {
  bindObjectTemplate,
  evaluateReferences,
  evaluateReferenceTree,
  sqlTextOf,
  type MemberKind,
  type ModelIndex,
  type TemplateScope,
} from '../bind-template.js';
import { isPlainObject } from '../evaluate-model-file.js';
import type { Cube, Folder, Granularity, Hierarchy, PreAggregation, SqlTemplate } from '../model.js';
import { RawTemplate } from '../raw-template.js';
import { titleize } from '../titleize.js';
import { ValidationContext } from '../validation-context.js';
import type { BuildState } from './build-state.js';
import { IDENTIFIER, keySet, optionalBoolean, optionalString, plainData, readKeys, toCamel, type Where } from './read-helpers.js';

const UNIT = '(second|minute|hour|day|week|month|quarter|year)s?';
const GRANULARITY_INTERVAL = new RegExp(`^\\d+\\s+${UNIT}(\\s\\d+\\s+${UNIT}){0,7}$`);
const GRANULARITY_OFFSET = new RegExp(`^-?\\d+\\s+${UNIT}(\\s-?\\d+\\s+${UNIT}){0,7}$`);
const EVERY_INTERVAL = /^\d+ (second|minute|hour|day|week)s?$/;
const CRON = /^(\S+\s+){4,5}\S+$/;
const GRANULARITY_KEYS = keySet('title', 'interval', 'offset', 'origin');
const REFRESH_KEY_KEYS = keySet('every', 'sql', 'timezone', 'immutable');
const HIERARCHY_KEYS = keySet('title', 'public', 'levels');
const FOLDER_KEYS = keySet('name', 'includes');
const PRE_AGGREGATION_TYPES = keySet('rollup', 'originalSql', 'rollupJoin', 'rollupLambda', 'autoRollup');

/** Cube's rule: without an origin, an interval must divide its parent unit evenly (so buckets align every year). */
function alignsWithoutOrigin(interval: string): boolean {
  const parts = interval.split(/\s+/);
  if (parts.length !== 2) return false;
  const n = Number(parts[0]);
  const unit = (parts[1] as string).replace(/s$/, '');
  const divides: Record<string, () => boolean> = {
    year: () => true,
    month: () => 12 % n === 0,
    quarter: () => 4 % n === 0,
    week: () => n === 1,
    day: () => n === 1,
    hour: () => 24 % n === 0,
    minute: () => 60 % n === 0,
    second: () => 60 % n === 0,
  };
  return divides[unit]?.() ?? false;
}

/** A time dimension's `granularities` (an object keyed by name; YAML's list is converted on load). */
export function readGranularities(value: unknown, type: string, where: Where): ReadonlyMap<string, Granularity> | undefined {
  if (value === undefined) return undefined;
  if (type !== 'time') throw new ModelError('granularities are only allowed on time dimensions', where);
  if (!isPlainObject(value)) throw new ModelError('granularities must be a list of named granularities', where);
  const out = new Map<string, Granularity>();
  for (const [name, raw] of Object.entries(value)) {
    const at = `granularities.${name}`;
    if (!IDENTIFIER.test(name)) throw new ModelError(`granularity name '${name}' is not an identifier`, where);
    const d = readKeys(raw, GRANULARITY_KEYS, where, at);
    const interval = optionalString(d.interval, where, `${at}.interval`);
    if (interval === undefined || !GRANULARITY_INTERVAL.test(interval.trim())) {
      throw new ModelError(`${at}.interval must be like '1 year' or '2 weeks', got ${String(interval)}`, where);
    }
    const offset = optionalString(d.offset, where, `${at}.offset`);
    const origin = optionalString(d.origin, where, `${at}.origin`);
    if (offset !== undefined && origin !== undefined) throw new ModelError(`${at} may have offset or origin, not both`, where);
    if (offset !== undefined && !GRANULARITY_OFFSET.test(offset.trim())) {
      throw new ModelError(`${at}.offset must be like '1 month' or '-7 days', got '${offset}'`, where);
    }
    if (origin !== undefined && Number.isNaN(new Date(origin).getTime())) {
      throw new ModelError(`${at}.origin must be a date (YYYY-MM-DD) or a timestamp, got '${origin}'`, where);
    }
    if (origin === undefined && !alignsWithoutOrigin(interval.trim())) {
      throw new ModelError(`${at}: arbitrary intervals cannot be used without an origin`, where);
    }
    out.set(
      name,
      Object.freeze({ name, title: optionalString(d.title, where, `${at}.title`) ?? titleize(name), interval: interval.trim(), offset, origin }),
    );
  }
  return out;
}

export type RefreshKey = NonNullable<Cube['refreshKey']>;

/** `refresh_key: {every | sql | immutable, timezone}`: the result cache reads it. */
export function readRefreshKey(state: BuildState, raw: unknown, scope: TemplateScope, where: Where): RefreshKey | undefined {
  if (raw === undefined) return undefined;
  const render = bindObjectTemplate(raw, scope);
  let probe: unknown;
  try {
    probe = render(new ValidationContext());
  } catch (cause) {
    throw new ModelError(`refresh_key cannot be evaluated: ${cause instanceof Error ? cause.message : String(cause)}`, where, cause);
  }
  const d = readKeys(probe, REFRESH_KEY_KEYS, where, 'refresh_key');
  const every = optionalString(d.every, where, 'refresh_key.every');
  if (every !== undefined && !EVERY_INTERVAL.test(every) && !(d.sql === undefined && CRON.test(every))) {
    throw new ModelError(`refresh_key.every must be like '1 hour' (or a cron expression without sql), got '${every}'`, where);
  }
  const immutable = optionalBoolean(d.immutable, where, 'refresh_key.immutable');
  if (every === undefined && d.sql === undefined && immutable === undefined) throw new ModelError('refresh_key needs every, sql or immutable', where);
  let sql: SqlTemplate | undefined;
  if (d.sql !== undefined) {
    sql = (ctx) => sqlTextOf((render(ctx) as Record<string, unknown>).sql);
    state.checks.push({ scope, template: sql, mayReferenceMeasures: false });
  }
  return Object.freeze({ every, sql, immutable, timezone: optionalString(d.timezone, where, 'refresh_key.timezone') });
}

/** `data_source`: kept on the cube for the statement that reads it. */
export function readDataSource(value: unknown, where: Where): string {
  const name = optionalString(value, where, 'data_source') ?? 'default';
  if (!/^[_a-zA-Z][-_a-zA-Z0-9]*$/.test(name)) throw new ModelError(`data_source '${name}' is not a name`, where);
  return name;
}

/** `'CUBE.city'` / `'city'` / `'Users.city'` → `Cube.member`, which must be of one of `kinds`. */
function qualify(ref: string, cube: string, index: ModelIndex, kinds: readonly MemberKind[], where: Where, what: string): string {
  const parts = ref.split('.');
  const member = parts[parts.length - 1] ?? '';
  const rawOwner = parts.length === 1 ? cube : (parts[parts.length - 2] ?? '');
  const owner = rawOwner === 'CUBE' ? cube : rawOwner;
  const kind = index.get(owner)?.members.get(member);
  if (kind === undefined || !kinds.includes(kind)) throw new ModelError(`${what} ${ref} is not a ${kinds.join(' or ')} of the model`, where);
  return `${owner}.${member}`;
}

export function readHierarchies(state: BuildState, value: unknown, cube: string, file: string, where: Where): readonly Hierarchy[] | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new ModelError('hierarchies must be a list of named hierarchies', where);
  return Object.freeze(
    Object.entries(value).map(([name, raw]) => {
      const at = `hierarchies.${name}`;
      const d = readKeys(raw, HIERARCHY_KEYS, where, at);
      if (d.levels === undefined) throw new ModelError(`${at} needs levels`, where);
      const scope: TemplateScope = { index: state.index, cube, file, label: `${cube}.${at}` };
      const levels = evaluateReferences(d.levels, scope).map((ref) => qualify(ref, cube, state.index, ['dimension'], where, `${at} level`));
      return Object.freeze({
        name,
        title: optionalString(d.title, where, `${at}.title`) ?? titleize(name),
        public: optionalBoolean(d.public, where, `${at}.public`) ?? true,
        levels: Object.freeze(levels),
      });
    }),
  );
}

/** A view's `folders: [{name, includes}]` over the view's own member names. */
export function readFolders(value: unknown, members: ReadonlySet<string>, where: Where): readonly Folder[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ModelError('folders must be a list of {name, includes}', where);
  return Object.freeze(
    value.map((raw, i) => {
      const d = readKeys(raw, FOLDER_KEYS, where, `folders.${i}`);
      const name = optionalString(d.name, where, `folders.${i}.name`);
      if (name === undefined) throw new ModelError(`folders.${i} needs a name`, where);
      let list: string[];
      if (d.includes === '*') list = [...members];
      else if (Array.isArray(d.includes) && d.includes.every((m): m is string => typeof m === 'string')) list = d.includes;
      else throw new ModelError(`folder '${name}' needs includes: '*' or a list of member names`, where);
      for (const m of list) {
        if (!members.has(m)) throw new ModelError(`folder '${name}' includes '${m}', which is not a member of this view`, where);
      }
      return Object.freeze({ name, members: Object.freeze([...list]) });
    }),
  );
}

const listOf = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `pre_aggregations`: checked and kept; Tessera answers every query from the source tables. */
export function readPreAggregations(state: BuildState, value: unknown, cube: string, file: string, where: Where): readonly PreAggregation[] | undefined {
  if (value === undefined) return undefined;
  const scope: TemplateScope = { index: state.index, cube, file, label: `${cube}.preAggregations` };
  const tree = evaluateReferenceTree(value instanceof RawTemplate || isPlainObject(value) ? value : undefined, scope);
  if (!isPlainObject(tree)) throw new ModelError('pre_aggregations must be a list of named pre-aggregations', where);
  return Object.freeze(
    Object.entries(tree).map(([name, raw]): PreAggregation => {
      const at = `pre_aggregations.${name}`;
      if (!isPlainObject(raw)) throw new ModelError(`${at} must be an object`, where);
      const d: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) d[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
      // Cube reads the type in either case, as its docs write YAML: `type: rollup_lambda`, `type: original_sql`.
      const type = typeof d.type === 'string' ? toCamel(d.type) : (d.type ?? 'rollup');
      if (typeof type !== 'string' || !PRE_AGGREGATION_TYPES.has(type)) {
        throw new ModelError(`${at}.type must be one of ${[...PRE_AGGREGATION_TYPES].join(', ')}, got ${String(type)}`, where);
      }
      const refs = (v: unknown, kinds: readonly MemberKind[], what: string) =>
        listOf(v).map((r) => {
          if (typeof r !== 'string') throw new ModelError(`${at}.${what} must list member references`, where);
          return qualify(r, cube, state.index, kinds, where, `${at}.${what}`);
        });
      const measures = refs(d.measures ?? d.measureReferences, ['measure'], 'measures');
      const dimensions = refs(d.dimensions ?? d.dimensionReferences, ['dimension'], 'dimensions');
      const segments = refs(d.segments ?? d.segmentReferences, ['segment'], 'segments');
      const timeDimensions = listOf(d.timeDimensions).map((t) => (isPlainObject(t) ? t.dimension : t));
      const [timeDimension] = refs(d.timeDimension ?? d.timeDimensionReference ?? timeDimensions[0], ['dimension'], 'time_dimension');
      const rollups = listOf(d.rollups ?? d.rollupReferences).map((r) => String(r));
      const granularity = optionalString(d.granularity, where, `${at}.granularity`);
      const partitionGranularity = optionalString(d.partitionGranularity, where, `${at}.partition_granularity`);
      const refreshKey = d.refreshKey === undefined ? undefined : plainData(d.refreshKey, where, `${at}.refresh_key`);
      return Object.freeze({
        name,
        type: type as PreAggregation['type'],
        measures: Object.freeze(measures),
        dimensions: Object.freeze(dimensions),
        segments: Object.freeze(segments),
        timeDimension,
        granularity,
        partitionGranularity,
        rollups: Object.freeze(rollups),
        refreshKey,
      });
    }),
  );
}
