/**
 * SQL for each filter operator, following Cube's PostgreSQL semantics.
 * Every value goes through `param`; only operators and the column expression are text.
 */
import type { FilterOperator, FilterValue } from '../query/validated-query.js';

export interface FilterInput {
  /** The member's SQL expression. */
  readonly column: string;
  readonly values: readonly FilterValue[];
  /** Allocates a bound parameter. */
  readonly param: (value: unknown) => string;
  /** Converts a local timestamp of the query timezone to a UTC instant for binding. */
  readonly toUtc: (local: string) => string;
  /** The member's type, for casts. */
  readonly type: 'string' | 'number' | 'time' | 'boolean';
  /** The measure's own filter conditions (measureFilter). */
  readonly measureFilters?: readonly string[];
  /** Cast parameters to numeric (HAVING on aggregates, whose types vary). */
  readonly castNumeric?: boolean;
}

type FilterSql = (f: FilterInput) => string;

/** Escapes LIKE wildcards; backslash is PostgreSQL's default LIKE escape. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const nonNull = (values: readonly FilterValue[]): string[] => values.filter((v): v is string => v !== null);
const hasNull = (values: readonly FilterValue[]): boolean => values.some((v) => v === null);

function typed(f: FilterInput, value: string): string {
  const p = f.param(value);
  if (f.castNumeric) return `${p}::numeric`;
  return f.type === 'boolean' ? `${p}::boolean` : p;
}

function equals(f: FilterInput): string {
  const vals = nonNull(f.values);
  const parts: string[] = [];
  if (vals.length === 1) parts.push(`${f.column} = ${typed(f, vals[0] as string)}`);
  if (vals.length > 1) parts.push(`${f.column} IN (${vals.map((v) => typed(f, v)).join(', ')})`);
  if (hasNull(f.values)) parts.push(`${f.column} IS NULL`);
  // No values at all matches nothing.
  if (parts.length === 0) return '1 = 0';
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

function notEquals(f: FilterInput): string {
  const vals = nonNull(f.values);
  if (vals.length === 0) return `${f.column} IS NOT NULL`;
  const cond =
    vals.length === 1
      ? `${f.column} <> ${typed(f, vals[0] as string)}`
      : `${f.column} NOT IN (${vals.map((v) => typed(f, v)).join(', ')})`;
  return hasNull(f.values) ? cond : `(${cond} OR ${f.column} IS NULL)`;
}

function like(negate: boolean, shape: (p: string) => string): FilterSql {
  return (f) => {
    const vals = nonNull(f.values);
    const op = negate ? 'NOT ILIKE' : 'ILIKE';
    const parts = vals.map((v) => `${f.column} ${op} ${shape(f.param(escapeLike(v)))}`);
    const joined = parts.length === 1 ? (parts[0] as string) : `(${parts.join(negate ? ' AND ' : ' OR ')})`;
    if (negate) return hasNull(f.values) ? joined : `(${joined} OR ${f.column} IS NULL)`;
    return hasNull(f.values) ? `(${joined} OR ${f.column} IS NULL)` : joined;
  };
}

function compare(op: '>' | '>=' | '<' | '<='): FilterSql {
  return (f) => {
    const v = nonNull(f.values)[0] as string;
    const p = f.type === 'time' ? `${f.param(f.toUtc(v))}::timestamptz` : typed(f, v);
    return `${f.column} ${op} ${p}`;
  };
}

const ts = (f: FilterInput, local: FilterValue | undefined): string => `${f.param(f.toUtc(local ?? ''))}::timestamptz`;

function dateCompare(op: '<' | '<=' | '>' | '>='): FilterSql {
  return (f) => `${f.column} ${op} ${ts(f, f.values[0])}`;
}

const inDateRange: FilterSql = (f) => `(${f.column} >= ${ts(f, f.values[0])} AND ${f.column} <= ${ts(f, f.values[1])})`;

/** One entry per operator, so a new operator without SQL fails to compile. */
export const FILTER_SQL: Record<FilterOperator, FilterSql> = {
  equals,
  in: equals,
  notEquals,
  notIn: notEquals,
  contains: like(false, (p) => `'%' || ${p} || '%'`),
  notContains: like(true, (p) => `'%' || ${p} || '%'`),
  startsWith: like(false, (p) => `${p} || '%'`),
  notStartsWith: like(true, (p) => `${p} || '%'`),
  endsWith: like(false, (p) => `'%' || ${p}`),
  notEndsWith: like(true, (p) => `'%' || ${p}`),
  gt: compare('>'),
  gte: compare('>='),
  lt: compare('<'),
  lte: compare('<='),
  set: (f) => `${f.column} IS NOT NULL`,
  notSet: (f) => `${f.column} IS NULL`,
  inDateRange,
  onTheDate: inDateRange,
  notInDateRange: (f) => `(${f.column} < ${ts(f, f.values[0])} OR ${f.column} > ${ts(f, f.values[1])})`,
  beforeDate: dateCompare('<'),
  beforeOrOnDate: dateCompare('<='),
  afterDate: dateCompare('>'),
  afterOrOnDate: dateCompare('>='),
  measureFilter: (f) => (f.measureFilters && f.measureFilters.length > 0 ? f.measureFilters.map((c) => `(${c})`).join(' AND ') : '1 = 1'),
};
