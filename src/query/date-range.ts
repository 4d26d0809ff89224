/**
 * Date ranges: absolute dates and Cube's relative strings, resolved in the
 * query timezone to local `YYYY-MM-DDTHH:mm:ss.SSS` bounds.
 */
import { DateTime, IANAZone } from 'luxon';
import * as chrono from 'chrono-node';
import { EngineError } from '../errors/engine-error.js';

export const LOCAL_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS";

/** Every form Cube (moment's ISO parser) reads: a date, or a date and time with `T` or a space, optional seconds, fraction and offset. */
const ABSOLUTE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const UNITS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
type Unit = (typeof UNITS)[number];

function unitOf(word: string): Unit | undefined {
  const singular = word.toLowerCase().replace(/s$/, '');
  return (UNITS as readonly string[]).includes(singular) ? (singular as Unit) : undefined;
}

function cannotParse(text: string): EngineError {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return new EngineError('ERR_QUERY_INVALID_DATE', `Can't parse date: '${shown}'`);
}

// Zone names are few and checking one builds an Intl formatter, so answers are remembered.
const canonicalZones = new Map<string, string>();

/** Canonical IANA name, or a 400 naming the field. */
export function canonicalTimezone(tz: string): string {
  const known = canonicalZones.get(tz);
  if (known !== undefined) return known;
  if (!IANAZone.isValidZone(tz)) {
    throw new EngineError('ERR_QUERY_INVALID', 'Invalid query format: "timezone" must be a valid IANA time zone name');
  }
  const canonical = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  if (canonicalZones.size < 1000) canonicalZones.set(tz, canonical);
  return canonical;
}

/**
 * How a value with an offset (`Z`, `+02:00`) is read. `zone`: the instant in the query timezone, as
 * Cube's filters do (moment.tz). `utc`: its UTC wall-clock time read as local time, as Cube's
 * normalisation of a timeDimension's dateRange does (moment.utc).
 */
export type OffsetReading = 'zone' | 'utc';

function parseAbsolute(text: string, zone: string, edge: 'start' | 'end', offsets: OffsetReading = 'zone'): DateTime {
  const t = text.trim();
  if (!ABSOLUTE.test(t)) throw cannotParse(text);
  const iso = t.replace(' ', 'T').replace(',', '.').replace(/(\.\d{3})\d+/, '$1');
  const dt = offsets === 'utc' && /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(iso.slice(10))
    ? DateTime.fromISO(iso, { zone: 'UTC' }).setZone(zone, { keepLocalTime: true })
    : DateTime.fromISO(iso, { zone });
  if (!dt.isValid) throw cannotParse(text);
  if (DATE_ONLY.test(t)) return edge === 'start' ? dt.startOf('day') : dt.endOf('day');
  return dt;
}

/** One bound of a date filter value: a date-only value widens to the day's start or end. */
export function localBound(text: string, zone: string, edge: 'start' | 'end', offsets: OffsetReading = 'zone'): string {
  return parseAbsolute(text, zone, edge, offsets).toFormat(LOCAL_FORMAT);
}

/** A local timestamp in `zone` as a UTC ISO string, for binding as timestamptz. */
export function localToUtc(local: string, zone: string): string {
  const dt = DateTime.fromISO(local, { zone });
  if (!dt.isValid) throw cannotParse(local);
  return dt.toUTC().toISO({ suppressMilliseconds: false }) ?? local;
}

type Range = readonly [DateTime, DateTime];

function relativeRange(text: string, now: DateTime): Range | undefined {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (t === 'today') return [now.startOf('day'), now.endOf('day')];
  if (t === 'yesterday') {
    const d = now.minus({ days: 1 });
    return [d.startOf('day'), d.endOf('day')];
  }
  if (t === 'tomorrow') {
    const d = now.plus({ days: 1 });
    return [d.startOf('day'), d.endOf('day')];
  }
  let m = /^(this|last|next) ([a-z]+)$/.exec(t);
  if (m) {
    const unit = unitOf(m[2] ?? '');
    if (!unit || (m[2] ?? '').endsWith('s')) return undefined;
    const shift = m[1] === 'last' ? -1 : m[1] === 'next' ? 1 : 0;
    const d = now.plus({ [`${unit}s`]: shift });
    return [d.startOf(unit), d.endOf(unit)];
  }
  m = /^(last|next) (\d{1,6}) ([a-z]+)$/.exec(t);
  if (m) {
    const unit = unitOf(m[3] ?? '');
    const n = Number(m[2]);
    if (!unit || n < 1) return undefined;
    // As in Cube 1.x: "last N units" ends with the previous unit, leaving out the current one.
    return m[1] === 'last'
      ? [now.minus({ [`${unit}s`]: n }).startOf(unit), now.minus({ [`${unit}s`]: 1 }).endOf(unit)]
      : [now.plus({ [`${unit}s`]: 1 }).startOf(unit), now.plus({ [`${unit}s`]: n }).endOf(unit)];
  }
  m = /^from (.+) to (.+)$/.exec(t);
  if (m) {
    const from = pointInTime(m[1] ?? '', now, 'start');
    const to = pointInTime(m[2] ?? '', now, 'end');
    return from && to ? [from, to] : undefined;
  }
  return undefined;
}

function pointInTime(text: string, now: DateTime, edge: 'start' | 'end'): DateTime | undefined {
  const t = text.trim();
  if (ABSOLUTE.test(t)) return parseAbsolute(t, now.zoneName ?? 'UTC', edge);
  if (t === 'now') return now;
  const rel = relativeRange(t, now);
  if (rel) return edge === 'start' ? rel[0] : rel[1];
  const ago = /^(\d{1,6}) ([a-z]+) (ago|from now)$/.exec(t);
  if (ago) {
    const unit = unitOf(ago[2] ?? '');
    if (!unit) return undefined;
    const d = ago[3] === 'ago' ? now.minus({ [`${unit}s`]: Number(ago[1]) }) : now.plus({ [`${unit}s`]: Number(ago[1]) });
    return edge === 'start' ? d.startOf('day') : d.endOf('day');
  }
  const local = now.toFormat("yyyy-MM-dd'T'HH:mm:ss");
  const parsed = chrono.parseDate(t, { instant: new Date(`${local}Z`), timezone: 0 });
  if (!parsed) return undefined;
  const asLocal = DateTime.fromISO(parsed.toISOString().slice(0, 23), { zone: now.zoneName ?? 'UTC' });
  return edge === 'start' ? asLocal.startOf('day') : asLocal.endOf('day');
}

/**
 * Resolves a `dateRange` (relative string, or one/two absolute values) to local bounds.
 * `nowMs` is injected so tests can freeze the clock.
 */
export function resolveDateRange(
  input: string | readonly string[],
  zone: string,
  nowMs: number = Date.now(),
  offsets: OffsetReading = 'zone',
): readonly [string, string] {
  if (typeof input === 'string') {
    const now = DateTime.fromMillis(nowMs, { zone });
    const range = relativeRange(input, now);
    if (!range) {
      if (ABSOLUTE.test(input.trim())) {
        return [localBound(input, zone, 'start', offsets), localBound(input, zone, 'end', offsets)];
      }
      throw cannotParse(input);
    }
    return [range[0].toFormat(LOCAL_FORMAT), range[1].toFormat(LOCAL_FORMAT)];
  }
  const [from, to] = input;
  if (from === undefined) throw new EngineError('ERR_QUERY_INVALID_DATE', 'A date range needs at least one date');
  return [localBound(from, zone, 'start', offsets), localBound(to ?? from, zone, 'end', offsets)];
}

/** True when a filter value is a relative expression rather than an absolute date. */
export function isRelativeDate(text: string): boolean {
  return !ABSOLUTE.test(text.trim());
}
