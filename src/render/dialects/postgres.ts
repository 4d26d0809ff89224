/**
 * PostgreSQL: every fact of the SQL dialect. Identifier quoting and parameter placeholders are
 * the only places that write identifiers and values; date truncation, time zones, intervals and
 * series are written here too, so another database is another file beside this one.
 * Parameters are collected as markers and numbered `$1…$n` in text order at the end,
 * so one value used twice keeps one number.
 */
import type { CompiledSql } from '../../db/database.js';
import { EngineError } from '../../errors/engine-error.js';
import type { DimensionType } from '../../schema/model.js';
import { GRANULARITY_INTERVAL, type Granularity } from '../../query/validated-query.js';

const MARKER = /\u0000(\d+)\u0000/g;

/** Double-quotes an identifier that comes from the model. */
export function quoteIdentifier(name: string): string {
  if (name.includes('\u0000')) throw new Error('Identifier contains a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

export class ParamList {
  readonly #values: unknown[] = [];

  /** Records a value and returns a placeholder for it. */
  add(value: unknown): string {
    this.#values.push(value);
    return `\u0000${this.#values.length - 1}\u0000`;
  }

  /** Numbers the placeholders in text order and returns the final statement. */
  finish(text: string): CompiledSql {
    const numbers = new Map<number, number>();
    const params: unknown[] = [];
    const sql = text.replace(MARKER, (_m, idx: string) => {
      const i = Number(idx);
      let n = numbers.get(i);
      if (n === undefined) {
        params.push(this.#values[i]);
        n = params.length;
        numbers.set(i, n);
      }
      return `$${n}`;
    });
    return Object.freeze({ sql, params: Object.freeze(params) });
  }
}

/** `createdAt` → `created_at`, `OrderItems` → `order_items`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** What the renderer asks of a SQL dialect. Arguments are SQL expressions already rendered. */
export interface Dialect {
  readonly quoteIdentifier: (name: string) => string;
  /** A timestamp expression truncated to the start of its period. */
  readonly dateTrunc: (granularity: Granularity, expr: string) => string;
  /** An instant (whatever its stored type) as local time in the zone `tz` (a placeholder). */
  readonly toLocalTime: (expr: string, tz: string) => string;
  /** A local time in the zone `tz` back to an instant. */
  readonly localToInstant: (local: string, tz: string) => string;
  /** A bound parameter read as a timestamp without zone / as an interval. */
  readonly timestampParam: (placeholder: string) => string;
  readonly intervalParam: (placeholder: string) => string;
  /** A model interval (`'2 weeks'`, `'-7 days'`, validated at load) as a literal; anything else is refused. */
  readonly intervalLiteral: (interval: string) => string;
  /** One period of a granularity as an interval literal (granularities are a closed union). */
  readonly granularityInterval: (granularity: Granularity) => string;
  /** Period starts from `from` (truncated) to `to`, one `granularity` apart, as a FROM item with column "d". */
  readonly periodSeries: (granularity: Granularity, from: string, to: string) => string;
  /** The first non-NULL value of a column within a group. */
  readonly firstNonNull: (column: string) => string;
  /** Text of an expression, for composite keys. */
  readonly castText: (expr: string) => string;
  /** A literal of each dimension type, for NULL-safe hashable merge keys. */
  readonly mergeSentinel: Readonly<Record<DimensionType, string>>;
}


const MODEL_INTERVAL = /^-?\d+\s+(second|minute|hour|day|week|month|quarter|year)s?(\s+-?\d+\s+(second|minute|hour|day|week|month|quarter|year)s?){0,7}$/;

function intervalLiteral(interval: string): string {
  const text = interval.trim();
  // Model load already checks this; the literal is rendered only for text that still matches.
  if (!MODEL_INTERVAL.test(text)) throw new EngineError('ERR_PLAN_UNSUPPORTED', 'A granularity interval is not of the form "2 weeks"');
  return `interval '${text.replace(/\s+/g, ' ')}'`;
}

export const POSTGRES: Dialect = Object.freeze({
  quoteIdentifier,
  dateTrunc: (granularity: Granularity, expr: string) => `date_trunc('${granularity}', ${expr})`,
  toLocalTime: (expr: string, tz: string) => `(${expr})::timestamptz AT TIME ZONE ${tz}`,
  localToInstant: (local: string, tz: string) => `(${local}) AT TIME ZONE ${tz}`,
  timestampParam: (p: string) => `${p}::timestamp`,
  intervalParam: (p: string) => `${p}::interval`,
  intervalLiteral,
  granularityInterval: (granularity: Granularity) => `interval '${GRANULARITY_INTERVAL[granularity]}'`,
  periodSeries: (granularity: Granularity, from: string, to: string) =>
    `generate_series(date_trunc('${granularity}', ${from}), ${to}, interval '${GRANULARITY_INTERVAL[granularity]}') AS "d"`,
  firstNonNull: (column: string) => `(array_agg(${column}) FILTER (WHERE ${column} IS NOT NULL))[1]`,
  castText: (expr: string) => `CAST(${expr} AS TEXT)`,
  mergeSentinel: Object.freeze({ string: "''", number: "'0'", boolean: "'false'", time: "'-infinity'" }),
});
