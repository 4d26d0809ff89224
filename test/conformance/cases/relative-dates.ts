/**
 * Relative date ranges, resolved against the real clock in the query timezone. The bounds
 * are computed here with luxon, phrase by phrase, when the case runs; the demo data ends on
 * 2025-12-31, so ranges near today may select nothing, but their echoed bounds are checked.
 */
import { DateTime } from 'luxon';
import { expect } from 'vitest';
import { at, bucket, type ConformanceCase, type ContextName } from '../harness.js';

const LOCAL = "yyyy-MM-dd'T'HH:mm:ss.SSS";
type Bounds = (now: DateTime) => readonly [DateTime, DateTime];

function bounds(zone: string, compute: Bounds): [string, string] {
  const [a, b] = compute(DateTime.now().setZone(zone));
  return [a.toFormat(LOCAL), b.toFormat(LOCAL)];
}

interface Opts {
  readonly granularity?: string;
  readonly zone?: string;
  readonly allowEmpty?: boolean;
}

/** A relative `dateRange` on Orders.createdAt, checked against rows and against the echoed absolute range. */
function rel(name: string, ctx: ContextName, phrase: string, compute: Bounds, opts: Opts = {}): ConformanceCase {
  const zone = opts.zone ?? 'UTC';
  const g = opts.granularity;
  const expectedSql = () => {
    const [a, b] = bounds(zone, compute);
    const where = `created_at >= ${at(a, zone)} AND created_at <= ${at(b, zone)}`;
    return g
      ? `SELECT ${bucket(g, 'created_at', zone)} AS "Orders.createdAt.${g}", count(*) AS "Orders.count" FROM orders WHERE ${where} GROUP BY 1 ORDER BY 1`
      : `SELECT status AS "Orders.status", count(*) AS "Orders.count" FROM orders WHERE ${where} GROUP BY 1`;
  };
  return {
    name,
    ctx,
    query: {
      measures: ['Orders.count'],
      ...(g ? {} : { dimensions: ['Orders.status'] }),
      timeDimensions: [{ dimension: 'Orders.createdAt', ...(g ? { granularity: g } : {}), dateRange: phrase }],
      ...(opts.zone ? { timezone: opts.zone } : {}),
    },
    sql: expectedSql,
    ordered: g !== undefined,
    allowEmpty: opts.allowEmpty ?? false,
    verify: (body) => {
      const td = (body.query as { timeDimensions: { dateRange: unknown }[] }).timeDimensions[0];
      expect(td?.dateRange, 'the resolved absolute range is echoed in query').toEqual(bounds(zone, compute));
    },
  };
}

type Filter = Record<string, unknown>;

/** A relative value inside a date filter; `where` gets the resolved local bounds. */
function relFilter(name: string, ctx: ContextName, filter: Filter, compute: Bounds, where: (a: string, b: string) => string, zone = 'UTC'): ConformanceCase {
  return {
    name,
    ctx,
    query: { measures: ['Orders.count'], dimensions: ['Orders.status'], filters: [filter], ...(zone === 'UTC' ? {} : { timezone: zone }) },
    sql: () => {
      const [a, b] = bounds(zone, compute);
      return `SELECT status AS "Orders.status", count(*) AS "Orders.count" FROM orders WHERE ${where(at(a, zone), at(b, zone))} GROUP BY 1`;
    },
  };
}

const lastYear: Bounds = (n) => [n.minus({ years: 1 }).startOf('year'), n.minus({ years: 1 }).endOf('year')];
const fromTo = (a: string, b: string): Bounds => () => [DateTime.fromISO(a).startOf('day'), DateTime.fromISO(b).endOf('day')];

export const RELATIVE_DATE_CASES: readonly ConformanceCase[] = [
  rel('today covers the current day', 'dev', 'today', (n) => [n.startOf('day'), n.endOf('day')], { allowEmpty: true }),
  rel('yesterday in Pacific/Auckland', 'tenant2', 'yesterday', (n) => [n.minus({ days: 1 }).startOf('day'), n.minus({ days: 1 }).endOf('day')], { zone: 'Pacific/Auckland', allowEmpty: true }),
  rel('tomorrow', 'user42', 'tomorrow', (n) => [n.plus({ days: 1 }).startOf('day'), n.plus({ days: 1 }).endOf('day')], { allowEmpty: true }),
  rel('this year', 'tenant3', 'this year', (n) => [n.startOf('year'), n.endOf('year')], { granularity: 'month', allowEmpty: true }),
  rel('last year by month', 'tenant2', 'last year', lastYear, { granularity: 'month' }),
  rel('last 2 years by year leaves out the current year', 'dev', 'last 2 years', (n) => [n.minus({ years: 2 }).startOf('year'), n.minus({ years: 1 }).endOf('year')], { granularity: 'year' }),
  rel(
    'last 12 months in America/New_York',
    'tenant1',
    'last 12 months',
    (n) => [n.minus({ months: 12 }).startOf('month'), n.minus({ months: 1 }).endOf('month')],
    { granularity: 'month', zone: 'America/New_York' },
  ),
  rel('last 7 days leaves out today', 'dev', 'last 7 days', (n) => [n.minus({ days: 7 }).startOf('day'), n.minus({ days: 1 }).endOf('day')], { granularity: 'day', allowEmpty: true }),
  rel('last quarter', 'tenant4', 'last quarter', (n) => [n.minus({ quarters: 1 }).startOf('quarter'), n.minus({ quarters: 1 }).endOf('quarter')], { allowEmpty: true }),
  rel('next month', 'dev', 'next month', (n) => [n.plus({ months: 1 }).startOf('month'), n.plus({ months: 1 }).endOf('month')], { allowEmpty: true }),
  rel('this quarter in Asia/Tokyo', 'tenant5', 'this quarter', (n) => [n.startOf('quarter'), n.endOf('quarter')], { zone: 'Asia/Tokyo', allowEmpty: true }),
  rel('last 2 weeks are ISO weeks', 'tenant2', 'last 2 weeks', (n) => [n.minus({ weeks: 2 }).startOf('week'), n.minus({ weeks: 1 }).endOf('week')], { granularity: 'week', allowEmpty: true }),
  rel('last 400 days', 'tenant3', 'last 400 days', (n) => [n.minus({ days: 400 }).startOf('day'), n.minus({ days: 1 }).endOf('day')]),
  rel('from one date to another', 'user47tenant2', 'from 2024-01-01 to 2024-03-31', fromTo('2024-01-01', '2024-03-31'), { granularity: 'week' }),
  rel('last 30 months by quarter', 'tenant1', 'last 30 months', (n) => [n.minus({ months: 30 }).startOf('month'), n.minus({ months: 1 }).endOf('month')], { granularity: 'quarter' }),
  rel('this month in Pacific/Kiritimati', 'dev', 'this month', (n) => [n.startOf('month'), n.endOf('month')], { zone: 'Pacific/Kiritimati', allowEmpty: true }),
  rel('last year in America/Los_Angeles', 'tenant4', 'last year', lastYear, { zone: 'America/Los_Angeles' }),
  rel('last 3 years by status', 'user42', 'last 3 years', (n) => [n.minus({ years: 3 }).startOf('year'), n.minus({ years: 1 }).endOf('year')]),
  rel('last week is the previous ISO week', 'tenant3', 'last week', (n) => [n.minus({ weeks: 1 }).startOf('week'), n.minus({ weeks: 1 }).endOf('week')], { allowEmpty: true }),
  rel('next 3 months start after the current month', 'tenant1', 'next 3 months', (n) => [n.plus({ months: 1 }).startOf('month'), n.plus({ months: 3 }).endOf('month')], { granularity: 'month', allowEmpty: true }),
  rel('next 2 days', 'tenant2', 'next 2 days', (n) => [n.plus({ days: 1 }).startOf('day'), n.plus({ days: 2 }).endOf('day')], { allowEmpty: true }),

  // relative values inside date filters
  relFilter('inDateRange with a relative value', 'tenant2', { member: 'Orders.createdAt', operator: 'inDateRange', values: ['last year'] }, lastYear, (a, b) => `created_at >= ${a} AND created_at <= ${b}`),
  relFilter('beforeDate with a relative value uses the range start', 'tenant3', { member: 'Orders.createdAt', operator: 'beforeDate', values: ['last year'] }, lastYear, (a) => `created_at < ${a}`),
  relFilter(
    'afterOrOnDate with a relative value uses the range start',
    'dev',
    { member: 'Orders.createdAt', operator: 'afterOrOnDate', values: ['last 2 years'] },
    (n) => [n.minus({ years: 2 }).startOf('year'), n.minus({ years: 1 }).endOf('year')],
    (a) => `created_at >= ${a}`,
  ),
  relFilter(
    'beforeOrOnDate with a from-to value uses the range end',
    'tenant1',
    { member: 'Orders.createdAt', operator: 'beforeOrOnDate', values: ['from 2023-01-01 to 2023-06-30'] },
    fromTo('2023-01-01', '2023-06-30'),
    (_a, b) => `created_at <= ${b}`,
  ),
  relFilter(
    'afterDate with a from-to value uses the range end',
    'tenant5',
    { member: 'Orders.createdAt', operator: 'afterDate', values: ['from 2025-01-01 to 2025-06-30'] },
    fromTo('2025-01-01', '2025-06-30'),
    (_a, b) => `created_at > ${b}`,
  ),
  relFilter(
    'notInDateRange with a relative value in Asia/Kolkata',
    'tenant4',
    { member: 'Orders.createdAt', operator: 'notInDateRange', values: ['last year'] },
    lastYear,
    (a, b) => `(created_at < ${a} OR created_at > ${b})`,
    'Asia/Kolkata',
  ),
];
