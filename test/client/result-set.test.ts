/**
 * Our ResultSet must pivot exactly like Cube's: the official `@cubejs-client/core`
 * ResultSet is the oracle, on hand-written answers and on generated ones.
 */
import { ResultSet as CubeResultSet } from '@cubejs-client/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResultSet, type LoadResponse } from '../../src/client/index.js';
import { timeSeries } from '../../src/client/time-series.js';

// Cube's oracle reads naive timestamps in the process zone; UTC keeps DST out of the comparison.
process.env.TZ = 'UTC';

const annotationFor = (measures: string[], dimensions: string[], td?: { dimension: string; granularity: string }) => ({
  measures: Object.fromEntries(measures.map((m) => [m, { title: `T ${m}`, shortTitle: `S ${m}`, type: 'number' }])),
  dimensions: Object.fromEntries(dimensions.map((d) => [d, { title: `T ${d}`, shortTitle: `S ${d}`, type: 'string' }])),
  segments: {},
  timeDimensions:
    td === undefined
      ? {}
      : {
          [`${td.dimension}.${td.granularity}`]: { title: 'T time', shortTitle: 'S time', type: 'time' },
          [td.dimension]: { title: 'T time', shortTitle: 'S time', type: 'time' },
        },
});

function envelope(query: LoadResponse['pivotQuery'], data: Record<string, string | null>[]): LoadResponse {
  const td = query.timeDimensions?.[0];
  const annotation = annotationFor(
    [...(query.measures ?? [])],
    [...(query.dimensions ?? [])],
    td?.granularity === undefined ? undefined : { dimension: td.dimension, granularity: String(td.granularity) },
  );
  return {
    queryType: 'regularQuery',
    results: [{ query, data, annotation, lastRefreshTime: '2025-01-01T00:00:00.000Z', total: null }],
    pivotQuery: { ...query, queryType: 'regularQuery' },
    slowQuery: false,
  };
}

// Both implementations get their own deep copy, so neither can influence the other.
const both = (response: LoadResponse): [ResultSet, CubeResultSet] => [
  new ResultSet(structuredClone(response)),
  new CubeResultSet(structuredClone(response) as never),
];

const byMonth = envelope(
  {
    measures: ['Orders.count', 'Orders.amount'],
    timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: ['2024-01-01T00:00:00.000', '2024-04-30T23:59:59.999'] }],
  },
  [
    { 'Orders.createdAt.month': '2024-01-01T00:00:00.000', 'Orders.createdAt': '2024-01-01T00:00:00.000', 'Orders.count': '5', 'Orders.amount': '50.50' },
    { 'Orders.createdAt.month': '2024-03-01T00:00:00.000', 'Orders.createdAt': '2024-03-01T00:00:00.000', 'Orders.count': '2', 'Orders.amount': '7.00' },
  ],
);

describe('ResultSet pivots', () => {
  it('fills missing months with 0 in chartPivot and parses numeric strings for charts', () => {
    const [ours] = both(byMonth);
    expect(ours.chartPivot().map(({ x, ...rest }) => ({ x, count: rest['Orders.count'], amount: rest['Orders.amount'] }))).toEqual([
      { x: '2024-01-01T00:00:00.000', count: 5, amount: 50.5 },
      { x: '2024-02-01T00:00:00.000', count: 0, amount: 0 },
      { x: '2024-03-01T00:00:00.000', count: 2, amount: 7 },
      { x: '2024-04-01T00:00:00.000', count: 0, amount: 0 },
    ]);
  });

  it('keeps the server strings in tablePivot', () => {
    const [ours] = both(byMonth);
    expect(ours.tablePivot()[0]).toEqual({ 'Orders.createdAt.month': '2024-01-01T00:00:00.000', 'Orders.count': '5', 'Orders.amount': '50.50' });
  });

  it('names one series per measure with the annotation titles', () => {
    const [ours] = both(byMonth);
    expect(ours.series().map(({ key, title, shortTitle, series }) => ({ key, title, shortTitle, values: series.map((p) => p.value) }))).toEqual([
      { key: 'Orders.count', title: 'T Orders.count', shortTitle: 'S Orders.count', values: [5, 0, 2, 0] },
      { key: 'Orders.amount', title: 'T Orders.amount', shortTitle: 'S Orders.amount', values: [50.5, 0, 7, 0] },
    ]);
  });

  it('matches Cube on a month series with a date range', () => {
    const [ours, cube] = both(byMonth);
    expect(ours.chartPivot()).toEqual(cube.chartPivot());
    expect(ours.tablePivot()).toEqual(cube.tablePivot());
    expect(ours.series()).toEqual(cube.series());
  });

  it('matches Cube with a dimension on y and null and empty dimension values', () => {
    const response = envelope(
      { measures: ['Orders.count'], dimensions: ['Orders.status'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'day' }] },
      [
        { 'Orders.createdAt.day': '2024-02-27T00:00:00.000', 'Orders.status': 'completed', 'Orders.count': '1' },
        { 'Orders.createdAt.day': '2024-03-01T00:00:00.000', 'Orders.status': null, 'Orders.count': '2' },
        { 'Orders.createdAt.day': '2024-03-01T00:00:00.000', 'Orders.status': '', 'Orders.count': '3' },
      ],
    );
    const [ours, cube] = both(response);
    expect(ours.chartPivot()).toEqual(cube.chartPivot());
    expect(ours.tablePivot()).toEqual(cube.tablePivot());
    expect(ours.series()).toEqual(cube.series());
    expect(ours.chartPivot({ x: ['Orders.status'], y: ['measures'] })).toEqual(cube.chartPivot({ x: ['Orders.status'], y: ['measures'] }));
  });

  it('lists ISO weeks starting on Monday, like Cube', () => {
    expect(timeSeries('2024-12-25T00:00:00.000', '2025-01-10T23:59:59.999', 'week', false)).toEqual([
      '2024-12-23T00:00:00.000',
      '2024-12-30T00:00:00.000',
      '2025-01-06T00:00:00.000',
    ]);
  });
});

const GRANULARITIES = ['hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
type Gran = (typeof GRANULARITIES)[number];
const STEP_MS: Record<Gran, number> = { hour: 3_600_000, day: 86_400_000, week: 86_400_000, month: 86_400_000, quarter: 86_400_000, year: 86_400_000 };

// A bucket start the server could send for `ms` at this granularity (for the oracle, Cube's own series).
const bucketOf = (ms: number, gran: Gran): string => {
  const series = timeSeries(new Date(ms).toISOString().slice(0, 23), new Date(ms).toISOString().slice(0, 23), gran, gran !== 'hour');
  return series[0] ?? '';
};

const responseArb = fc
  .record({
    measures: fc.uniqueArray(fc.constantFrom('O.count', 'O.amount', 'O.avg'), { minLength: 0, maxLength: 2 }),
    dimensions: fc.uniqueArray(fc.constantFrom('O.status', 'O.city'), { maxLength: 2 }),
    gran: fc.option(fc.constantFrom(...GRANULARITIES), { nil: undefined }),
    withRange: fc.boolean(),
    dateOnlyRange: fc.boolean(),
    startMs: fc.integer({ min: Date.UTC(2023, 0, 1), max: Date.UTC(2025, 11, 1) }),
    spanSteps: fc.integer({ min: 0, max: 40 }),
    rows: fc.array(
      fc.record({
        offset: fc.integer({ min: 0, max: 40 }),
        status: fc.constantFrom('completed', 'shipped', null, ''),
        city: fc.constantFrom('Oslo', 'Lima', null),
        value: fc.option(fc.integer({ min: 0, max: 10_000 }).map((n) => (n / 100).toFixed(2)), { nil: null }),
      }),
      { maxLength: 25 },
    ),
    pivot: fc.option(
      fc.record({ measuresOnX: fc.boolean(), statusOnY: fc.boolean(), fillMissingDates: fc.boolean() }),
      { nil: undefined },
    ),
  })
  .filter((r) => r.measures.length + r.dimensions.length + (r.gran === undefined ? 0 : 1) > 0);

describe('ResultSet agrees with @cubejs-client/core', () => {
  it('gives the same tablePivot, chartPivot and series on generated answers', () => {
    fc.assert(
      fc.property(responseArb, (r) => {
        const tdMember = r.gran === undefined ? undefined : `O.createdAt.${r.gran}`;
        const step = r.gran === undefined ? 0 : STEP_MS[r.gran];
        const endMs = r.startMs + r.spanSteps * step;
        const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 23);
        const dateRange: [string, string] = r.dateOnlyRange
          ? [iso(r.startMs).slice(0, 10), iso(endMs).slice(0, 10)]
          : [iso(r.startMs), iso(endMs + step - 1)];
        const query = {
          measures: r.measures,
          dimensions: r.dimensions,
          timeDimensions:
            r.gran === undefined ? [] : [{ dimension: 'O.createdAt', granularity: r.gran, ...(r.withRange ? { dateRange } : {}) }],
        };
        const seen = new Set<string>();
        const data: Record<string, string | null>[] = [];
        for (const row of r.rows) {
          const out: Record<string, string | null> = {};
          if (tdMember !== undefined && r.gran !== undefined) {
            const value = bucketOf(r.startMs + Math.min(row.offset, r.spanSteps) * step, r.gran);
            out[tdMember] = value;
            out['O.createdAt'] = value;
          }
          if (r.dimensions.includes('O.status')) out['O.status'] = row.status;
          if (r.dimensions.includes('O.city')) out['O.city'] = row.city;
          for (const m of r.measures) out[m] = row.value;
          // A grouped query never returns the same group twice.
          const key = JSON.stringify([out[tdMember ?? ''], out['O.status'], out['O.city']]);
          if (seen.has(key)) continue;
          seen.add(key);
          data.push(out);
        }
        const pivotConfig =
          r.pivot === undefined
            ? undefined
            : {
                x: [...(tdMember ? ['O.createdAt'] : []), ...(r.pivot.statusOnY ? [] : r.dimensions), ...(r.pivot.measuresOnX ? ['measures'] : [])],
                y: [...(r.pivot.statusOnY ? r.dimensions : []), ...(r.pivot.measuresOnX ? [] : ['measures'])],
                fillMissingDates: r.pivot.fillMissingDates,
              };
        const [ours, cube] = both(envelope(query, data));
        expect(ours.tablePivot(pivotConfig)).toEqual(cube.tablePivot(pivotConfig as never));
        expect(ours.chartPivot(pivotConfig)).toEqual(cube.chartPivot(pivotConfig as never));
        if (r.measures.length > 0) expect(ours.series(pivotConfig)).toEqual(cube.series(pivotConfig as never));
      }),
      { numRuns: 300 },
    );
  });
});
