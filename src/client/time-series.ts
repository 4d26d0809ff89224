/**
 * The buckets of a time dimension between two local timestamps, as Cube's
 * client fills missing dates in charts. Timestamps have no zone (they are local
 * to the query's timezone), so the arithmetic runs on UTC dates without shifting.
 */
import type { Granularity } from './wire-types.js';

const GRANULARITY_SET: ReadonlySet<string> = new Set<Granularity>([
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'quarter',
  'year',
]);

export const isGranularity = (value: unknown): value is Granularity =>
  typeof value === 'string' && GRANULARITY_SET.has(value);

const LOCAL_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Milliseconds of a naive timestamp read as if it were UTC, or undefined when it is not one. */
export function parseLocalTimestamp(value: string): number | undefined {
  const m = LOCAL_TIMESTAMP.exec(value);
  if (m === null) return undefined;
  const n = (i: number): number => Number(m[i] ?? 0);
  return Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6), Number((m[7] ?? '0').padEnd(3, '0')));
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `YYYY-MM-DDTHH:mm:ss.SSS` without a zone. */
export function formatLocalTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function startOf(ms: number, unit: Granularity): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const starts: Record<Granularity, () => number> = {
    second: () => ms - (((ms % SECOND) + SECOND) % SECOND),
    minute: () => ms - (((ms % MINUTE) + MINUTE) % MINUTE),
    hour: () => ms - (((ms % HOUR) + HOUR) % HOUR),
    day: () => Date.UTC(y, mo, d.getUTCDate()),
    // Weeks start on Monday, as in Cube (ISO weeks).
    week: () => Date.UTC(y, mo, d.getUTCDate() - ((d.getUTCDay() + 6) % 7)),
    month: () => Date.UTC(y, mo, 1),
    quarter: () => Date.UTC(y, mo - (mo % 3), 1),
    year: () => Date.UTC(y, 0, 1),
  };
  return starts[unit]();
}

// Adds whole months and clamps the day to the target month's length, as dayjs does.
function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  return Date.UTC(
    target.getUTCFullYear(),
    target.getUTCMonth(),
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

const ADD_ONE: Record<Granularity, (ms: number) => number> = {
  second: (ms) => ms + SECOND,
  minute: (ms) => ms + MINUTE,
  hour: (ms) => ms + HOUR,
  day: (ms) => ms + DAY,
  week: (ms) => ms + 7 * DAY,
  month: (ms) => addMonths(ms, 1),
  quarter: (ms) => addMonths(ms, 3),
  year: (ms) => addMonths(ms, 12),
};

const endOf = (ms: number, unit: Granularity): number => ADD_ONE[unit](startOf(ms, unit)) - 1;

// Every step from `from` while its bucket starts before `to` (Cube's `dayRange(...).by(unit)`).
function steps(from: number, to: number, unit: Granularity): number[] {
  const out: number[] = [];
  for (let t = from; startOf(t, unit) < to || t === to; t = ADD_ONE[unit](t)) out.push(t);
  return out;
}

/**
 * The bucket labels for `granularity` from `start` to `end`, inclusive.
 * `padToDay` widens the range to whole days first, as Cube does for date-only ranges.
 */
export function timeSeries(start: string, end: string, granularity: Granularity, padToDay: boolean): string[] {
  let from = parseLocalTimestamp(start);
  let to = parseLocalTimestamp(end);
  if (from === undefined || to === undefined) return [];
  if (padToDay) {
    from = startOf(from, 'day');
    to = endOf(to, 'day');
  }
  const snapped = granularity === 'month' || granularity === 'year' || granularity === 'week' || granularity === 'quarter';
  const first = snapped ? startOf(from, granularity) : from;
  const last = snapped ? endOf(to, granularity) : to;
  return steps(first, last, granularity).map((t) => formatLocalTimestamp(startOf(t, granularity)));
}

/** Whether Cube pads this time dimension's range to whole days before listing buckets. */
export function padsToDay(dateRange: readonly string[] | undefined, granularity: Granularity): boolean {
  if (dateRange !== undefined) return dateRange.some((d) => DATE_ONLY.test(d));
  return granularity !== 'hour' && granularity !== 'minute' && granularity !== 'second';
}
