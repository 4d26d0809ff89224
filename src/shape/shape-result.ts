/**
 * The shape stage: database rows → Cube's response objects (data, annotation, envelopes).
 */
import { DateTime } from 'luxon';
import type { Model, Member } from '../schema/model.js';
import { GRANULARITY_INTERVAL, isBuiltInGranularity, type ValidatedQuery, type FilterNode } from '../query/validated-query.js';
import type { OutputColumn } from '../render/compile-query.js';
import type { QueryResult } from '../db/database.js';

const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const DATE = 1082;


/** `2024-01-01 00:00:00.5` → `2024-01-01T00:00:00.500`. */
function formatLocal(text: string): string {
  const [date, time = '00:00:00'] = text.split(' ');
  const [hms, frac = ''] = time.split('.');
  return `${date}T${hms}.${(frac + '000').slice(0, 3)}`;
}

function formatValue(value: unknown, typeId: number | undefined, zone: string): unknown {
  if (value === null || value === undefined || typeof value !== 'string') return value ?? null;
  if (typeId === TIMESTAMP) return formatLocal(value);
  if (typeId === DATE) return `${value}T00:00:00.000`;
  if (typeId === TIMESTAMPTZ) {
    const dt = DateTime.fromSQL(value, { zone: 'UTC' });
    return dt.isValid ? dt.setZone(zone).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS") : value;
  }
  return value;
}

export type Row = Record<string, unknown>;

/** Turns rows keyed by SQL alias into rows keyed by member name, as Cube does. */
export function shapeRows(result: QueryResult, columns: readonly OutputColumn[], q: ValidatedQuery): Row[] {
  const types = new Map(result.fields.map((f) => [f.name, f.dataTypeID]));
  const plainTime = columns.filter((c) => c.kind === 'timeDimension' && !q.dimensions.includes(c.member));
  return result.rows.map((row) => {
    const out: Row = {};
    for (const c of columns) {
      out[c.key] = formatValue(row[c.alias], types.get(c.alias), q.timezone);
    }
    // Cube also returns a grouped time dimension under its plain name, for older clients; with two granularities the last column wins, as in Cube's transformData.
    for (const c of plainTime) out[c.member] = out[c.key];
    return out;
  });
}

export function formatData(rows: readonly Row[], columns: readonly OutputColumn[], format: ValidatedQuery['responseFormat']): unknown {
  if (format === 'default') return rows;
  const members = [...new Set(columns.map((c) => c.key))];
  if (format === 'compact') return { members, dataset: rows.map((r) => members.map((m) => r[m] ?? null)) };
  return { members, columns: members.map((m) => rows.map((r) => r[m] ?? null)) };
}

function annotationType(member: Member): string {
  if (member.kind === 'measure') {
    return member.type === 'string' || member.type === 'time' || member.type === 'boolean' ? member.type : 'number';
  }
  if (member.kind === 'dimension') return member.type;
  return 'string';
}

function memberOf(model: Model, name: string): Member | undefined {
  const dot = name.indexOf('.');
  const cube = model.cubes.get(name.slice(0, dot));
  const short = name.slice(dot + 1);
  return cube?.measures.get(short) ?? cube?.dimensions.get(short) ?? cube?.segments.get(short);
}

function entry(member: Member, model: Model): Record<string, unknown> {
  const e: Record<string, unknown> = { title: member.title, shortTitle: member.shortTitle, type: annotationType(member) };
  if (member.description) e.description = member.description;
  if (member.format) e.format = member.format;
  if (member.meta) e.meta = member.meta;
  if (member.kind === 'measure') {
    e.drillMembers = [...member.drillMembers];
    e.drillMembersGrouped = {
      measures: member.drillMembers.filter((d) => memberOf(model, d)?.kind === 'measure'),
      dimensions: member.drillMembers.filter((d) => memberOf(model, d)?.kind === 'dimension'),
    };
  }
  return e;
}

export interface Annotation {
  readonly measures: Record<string, unknown>;
  readonly dimensions: Record<string, unknown>;
  readonly segments: Record<string, unknown>;
  readonly timeDimensions: Record<string, unknown>;
}

export function annotate(q: ValidatedQuery, model: Model): Annotation {
  const pick = (names: readonly string[]) =>
    Object.fromEntries(names.flatMap((n) => {
      const m = memberOf(model, n);
      return m ? [[n, entry(m, model)]] : [];
    }));
  const timeDimensions: Record<string, unknown> = {};
  for (const td of q.timeDimensions) {
    if (!td.granularity) continue;
    const m = memberOf(model, td.dimension);
    if (!m) continue;
    const base = entry(m, model);
    timeDimensions[`${td.dimension}.${td.granularity}`] = {
      ...base,
      granularity: granularityAnnotation(m, td.granularity),
    };
    timeDimensions[td.dimension] = base;
  }
  return { measures: pick(q.measures), dimensions: pick(q.dimensions), segments: pick(q.segments), timeDimensions };
}

/** Cube's granularity annotation: a built-in one by name, a custom one as the model defines it. */
function granularityAnnotation(m: Member, name: string): Record<string, string> {
  const custom = m.kind === 'dimension' ? m.granularities?.get(name) : undefined;
  if (custom) {
    const { title, interval, offset, origin } = custom;
    return { name, title, interval, ...(offset !== undefined ? { offset } : {}), ...(origin !== undefined ? { origin } : {}) };
  }
  const interval = isBuiltInGranularity(name) ? GRANULARITY_INTERVAL[name] : name;
  return { name, title: name.charAt(0).toUpperCase() + name.slice(1), interval };
}

function wireFilter(f: FilterNode): unknown {
  if (f.kind === 'leaf') return { member: f.member, operator: f.operator, values: [...f.values] };
  return { [f.kind]: f.filters.map(wireFilter) };
}

/** The normalised query Cube echoes back in `query` (informational). */
export function normalizedQuery(q: ValidatedQuery): Record<string, unknown> {
  const out: Record<string, unknown> = {
    measures: [...q.measures],
    dimensions: [...q.dimensions],
    segments: [...q.segments],
    timeDimensions: q.timeDimensions.map((t) => ({
      dimension: t.dimension,
      ...(t.granularity ? { granularity: t.granularity } : {}),
      ...(t.dateRange ? { dateRange: [...t.dateRange] } : {}),
    })),
    filters: q.filters.map(wireFilter),
    order: q.order.map(([id, dir]) => ({ id, desc: dir === 'desc' })),
    limit: q.limit,
    timezone: q.timezone,
    rowLimit: q.limit,
  };
  if (q.offset) out.offset = q.offset;
  if (q.total) out.total = true;
  if (q.ungrouped) out.ungrouped = true;
  if (q.responseFormat !== 'default') out.responseFormat = q.responseFormat;
  return out;
}

export interface ShapedResult {
  readonly query: Record<string, unknown>;
  readonly data: unknown;
  readonly lastRefreshTime: string;
  readonly annotation: Annotation;
  readonly dataSource: 'default';
  readonly dbType: 'postgres';
  readonly extDbType: 'cubestore';
  readonly external: false;
  readonly slowQuery: false;
  readonly total: number | null;
}

export function shapeResult(input: {
  q: ValidatedQuery;
  model: Model;
  columns: readonly OutputColumn[];
  result: QueryResult;
  total: number | null;
  now: Date;
  /** Adds fields to each row (compare ranges, blending keys). */
  decorateRow?: (row: Row) => void;
}): ShapedResult {
  const rows = shapeRows(input.result, input.columns, input.q);
  if (input.decorateRow) rows.forEach(input.decorateRow);
  return {
    query: normalizedQuery(input.q),
    data: formatData(rows, input.columns, input.q.responseFormat),
    lastRefreshTime: input.now.toISOString(),
    annotation: annotate(input.q, input.model),
    dataSource: 'default',
    dbType: 'postgres',
    extDbType: 'cubestore',
    external: false,
    slowQuery: false,
    total: input.total,
  };
}
