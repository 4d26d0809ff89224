/**
 * The time range a rolling window reads: from the first period's start minus the trailing
 * interval to the last period's end plus the leading one (open where the window is unbounded),
 * as Cube widens the date range of a cumulative measure's subquery. FILTER_PARAMS on the time
 * dimension read this range inside the window, so a source never cuts rows a window needs.
 */
import { DateTime, Duration } from 'luxon';
import type { RollingWindow } from '../schema/model.js';
import { LOCAL_FORMAT } from '../query/date-range.js';
import type { Granularity, LeafFilter } from '../query/validated-query.js';

const UNIT = /^(\d+)\s*(second|minute|hour|day|week|month|quarter|year)s?$/;

/** `7 day`, `2 weeks`, `1 month 3 days` → a Duration; undefined when it cannot be read. */
function parseInterval(text: string): Duration | undefined {
  const words = text.trim().toLowerCase().split(/\s+/);
  const parts: Record<string, number> = {};
  for (let i = 0; i < words.length; i += 2) {
    const m = UNIT.exec(`${words[i]} ${words[i + 1] ?? ''}`);
    if (!m) return undefined;
    const unit = m[2] === 'quarter' ? 'months' : `${m[2]}s`;
    parts[unit] = (parts[unit] ?? 0) + Number(m[1]) * (m[2] === 'quarter' ? 3 : 1);
  }
  return Duration.fromObject(parts);
}

const luxonUnit = (g: Granularity) => g;

/** FILTER_PARAMS leaves for the window's time dimension, or none when both ends are open. */
export function windowFilterRange(
  dimension: string,
  dateRange: readonly [string, string],
  granularity: Granularity | undefined,
  window: RollingWindow | undefined,
  zone: string,
): LeafFilter[] {
  const from = DateTime.fromISO(dateRange[0], { zone });
  const to = DateTime.fromISO(dateRange[1], { zone });
  const firstStart = granularity ? from.startOf(luxonUnit(granularity)) : from;
  const lastEnd = granularity ? to.endOf(luxonUnit(granularity)) : to;
  let lower: DateTime | undefined = firstStart;
  let upper: DateTime | undefined = lastEnd;
  if (window?.type && window.type !== 'fixed') {
    const unit = window.type === 'to_date' ? window.granularity : window.type.replace('_to_date', '');
    lower = unit && ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second'].includes(unit) ? firstStart.startOf(unit as Granularity) : undefined;
  } else if (window) {
    const trailing = window.trailing === undefined ? Duration.fromMillis(0) : window.trailing === 'unbounded' ? undefined : parseInterval(window.trailing);
    const leading = window.leading === undefined ? Duration.fromMillis(0) : window.leading === 'unbounded' ? undefined : parseInterval(window.leading);
    // An interval that cannot be read leaves that end open: wider is always correct, only slower.
    lower = trailing ? firstStart.minus(trailing) : undefined;
    upper = leading ? lastEnd.plus(leading) : undefined;
  }
  const text = (d: DateTime) => d.toFormat(LOCAL_FORMAT);
  if (lower && upper) return [{ kind: 'leaf', member: dimension, operator: 'inDateRange', values: [text(lower), text(upper)] }];
  if (lower) return [{ kind: 'leaf', member: dimension, operator: 'afterOrOnDate', values: [text(lower)] }];
  if (upper) return [{ kind: 'leaf', member: dimension, operator: 'beforeOrOnDate', values: [text(upper)] }];
  return [];
}
