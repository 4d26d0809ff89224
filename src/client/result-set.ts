/**
 * A `ResultSet` like Cube's: the rows of a `/load` answer plus pivots for
 * tables and charts. It follows Cube's pivot rules (axes, filled-in missing
 * dates, `∅` for null) so code written for Cube's ResultSet keeps working.
 */
import { isGranularity, padsToDay, timeSeries } from './time-series.js';
import type { Annotation, AnnotationEntry, CellValue, LoadResponse, LoadResult, NormalizedQuery, QueryType, Row } from './wire-types.js';

/** How rows are laid out: members on the x axis, members (or `measures`) on the y axis. */
export interface PivotConfig {
  readonly x?: readonly string[];
  readonly y?: readonly string[];
  /** Add rows with 0 for the missing buckets of a time dimension on x (default true). */
  readonly fillMissingDates?: boolean;
  /** The value of a missing measure (default 0). */
  readonly fillWithValue?: CellValue;
}

interface NormalizedPivotConfig {
  readonly x: readonly string[];
  readonly y: readonly string[];
  readonly fillMissingDates: boolean;
  readonly fillWithValue: CellValue | undefined;
}

type AxisValues = readonly (CellValue)[];

interface PivotRow {
  readonly xValues: AxisValues;
  readonly yValuesArray: readonly (readonly [AxisValues, CellValue])[];
}

export interface ChartPivotRow {
  readonly x: string;
  readonly xValues: AxisValues;
  readonly [seriesKey: string]: CellValue | AxisValues;
}

export interface SeriesName {
  readonly key: string;
  readonly title: string;
  readonly shortTitle: string;
  readonly yValues: AxisValues;
}

export interface Series {
  readonly key: string;
  readonly title: string;
  readonly shortTitle: string;
  /** `undefined` where the chart has no value for this series (as in Cube). */
  readonly series: readonly { readonly x: string; readonly value: CellValue | undefined }[];
}

type TimeDimensionOfQuery = NonNullable<NormalizedQuery['timeDimensions']>[number];

const timeDimensionMember = (td: TimeDimensionOfQuery): string => `${td.dimension}.${String(td.granularity)}`;

const withGranularity = (query: NormalizedQuery | undefined): readonly TimeDimensionOfQuery[] =>
  (query?.timeDimensions ?? []).filter((td) => td.granularity !== undefined && td.granularity !== null);

function axisValuesString(values: AxisValues, delimiter = ', '): string {
  return values.map((v) => (v === null || v === undefined ? '∅' : v === '' ? '[Empty string]' : String(v))).join(delimiter);
}

export class ResultSet {
  readonly #response: LoadResponse;
  readonly #rows: Row[][] = [];

  constructor(response: LoadResponse) {
    this.#response = response;
  }

  /** The multi envelope exactly as received (after `castNumerics`, if set). */
  get response(): LoadResponse {
    return this.#response;
  }

  get queryType(): QueryType {
    return this.#response.queryType;
  }

  /** The rows of the (first) result, keyed by member name. */
  rawData(): readonly Row[] {
    return this.#first().data;
  }

  annotation(): Annotation {
    return this.#first().annotation;
  }

  /** The query as the server normalised it. */
  query(): NormalizedQuery {
    return this.#first().query;
  }

  pivotQuery(): NormalizedQuery {
    return this.#response.pivotQuery;
  }

  /** The total row count when the query asked for `total: true`, else null. */
  totalRows(): number | null {
    return this.#first().total ?? null;
  }

  /** One object per x value: x members, then one column per y value (`measures` by default). */
  tablePivot(pivotConfig?: PivotConfig): Record<string, CellValue>[] {
    const config = this.normalizePivotConfig(pivotConfig ?? {});
    const hasMeasures = [...config.x, ...config.y].includes('measures');
    return this.#pivot(config).map(({ xValues, yValuesArray }) => {
      const row: Record<string, CellValue> = {};
      config.x.forEach((key, i) => {
        row[key] = xValues[i] ?? null;
      });
      if (hasMeasures) {
        for (const [yValues, value] of yValuesArray) row[yValues.length > 0 ? yValues.join() : 'value'] = value;
      }
      return row;
    });
  }

  /** One object per x value with `x` and one numeric entry per series key, for charts. */
  chartPivot(pivotConfig?: PivotConfig): ChartPivotRow[] {
    const config = this.normalizePivotConfig(pivotConfig);
    return this.#pivot(config).map(({ xValues, yValuesArray }) => {
      const entry: Record<string, CellValue | AxisValues> = { x: axisValuesString(xValues, ','), xValues };
      for (const [yValues, value] of yValuesArray) {
        entry[axisValuesString(yValues.filter((v) => v !== null && v !== undefined), ',')] = toChartValue(value);
      }
      return entry as ChartPivotRow;
    });
  }

  /** The chart's series names: one per y value, titled from the annotation. */
  seriesNames(pivotConfig?: PivotConfig): SeriesName[] {
    const config = this.normalizePivotConfig(pivotConfig);
    const measures: Record<string, AnnotationEntry> = {};
    for (const result of this.#response.results) Object.assign(measures, result.annotation.measures);
    const seen = new Set<string>();
    const names: AxisValues[] = [];
    this.#response.results.forEach((_, index) => {
      const yAxis = this.#axisValues(config.y, index);
      for (const row of this.#data(index)) {
        for (const values of yAxis(row)) {
          const id = JSON.stringify(values);
          if (!seen.has(id)) {
            seen.add(id);
            names.push(values);
          }
        }
      }
    });
    const measuresOnY = config.y.includes('measures');
    return names.map((values) => {
      const aliased = values.filter((v) => v !== null && v !== undefined);
      const label = (field: 'title' | 'shortTitle'): string =>
        axisValuesString(
          measuresOnY ? [...aliased.slice(0, -1), measures[String(values[values.length - 1])]?.[field] ?? null] : aliased,
          ', ',
        );
      return { key: axisValuesString(aliased, ','), title: label('title'), shortTitle: label('shortTitle'), yValues: values };
    });
  }

  /** One series per y value, each a list of `{x, value}` points. */
  series(pivotConfig?: PivotConfig): Series[] {
    const chart = this.chartPivot(pivotConfig);
    return this.seriesNames(pivotConfig).map(({ key, title, shortTitle }) => ({
      key,
      title,
      shortTitle,
      series: chart.map((point) => ({ x: point.x, value: point[key] as CellValue | undefined })),
    }));
  }

  /** Cube's default axes: time dimensions on x, other dimensions on y, measures last on y. */
  normalizePivotConfig(pivotConfig?: PivotConfig): NormalizedPivotConfig {
    const query = this.#response.pivotQuery;
    const measures = query.measures ?? [];
    const dimensions = query.dimensions ?? [];
    const timeDimensions = withGranularity(query);
    const given: PivotConfig =
      pivotConfig ??
      (timeDimensions.length > 0 ? { x: timeDimensions.map(timeDimensionMember), y: dimensions } : { x: dimensions, y: [] });
    const substitute = (axis: readonly string[]): string[] =>
      axis.map((member) => {
        const td = timeDimensions.find((t) => t.dimension === member);
        return td !== undefined && !dimensions.includes(member) ? timeDimensionMember(td) : member;
      });
    let x = substitute(given.x ?? []);
    let y = substitute(given.y ?? []);
    const allDimensions = [...timeDimensions.map(timeDimensionMember), ...dimensions];
    const included = [...x, ...y];
    const isAxisMember = (key: string): boolean => allDimensions.includes(key) || key === 'measures';
    x = [...x, ...allDimensions.filter((d) => !included.includes(d) && d !== 'compareDateRange')].filter(isAxisMember);
    y = y.filter(isAxisMember);
    if (![...x, ...y].includes('measures')) y.push('measures');
    if (dimensions.includes('compareDateRange') && ![...y, ...x].includes('compareDateRange')) y.unshift('compareDateRange');
    if (measures.length === 0) {
      x = x.filter((d) => d !== 'measures');
      y = y.filter((d) => d !== 'measures');
    }
    return { x, y, fillMissingDates: given.fillMissingDates ?? true, fillWithValue: given.fillWithValue };
  }

  #first(): LoadResult {
    const first = this.#response.results[0];
    if (first === undefined) throw new TypeError('The load response has no results.');
    return first;
  }

  // Rows with `Cube.td.granularity` filled from plain `Cube.td` when only the latter was sent.
  #data(index: number): readonly Row[] {
    const cached = this.#rows[index];
    if (cached !== undefined) return cached;
    const result = this.#response.results[index];
    if (result === undefined) return [];
    const tds = withGranularity(result.query);
    const rows = result.data.map((row) => {
      const extra: Record<string, CellValue> = {};
      for (const td of tds) {
        const member = timeDimensionMember(td);
        if (td.dimension in row && !row[member]) extra[member] = row[td.dimension] ?? null;
      }
      return Object.keys(extra).length > 0 ? { ...row, ...extra } : row;
    });
    this.#rows[index] = rows;
    return rows;
  }

  #axisValues(axis: readonly string[], index: number): (row: Row) => AxisValues[] {
    const query = this.#response.results[index]?.query;
    const plain = axis.filter((d) => d !== 'measures');
    const measures = axis.includes('measures') ? (query?.measures ?? []) : [];
    return (row) => {
      const value = (measure?: string): AxisValues => {
        const values: CellValue[] = plain.map((d) => row[d] ?? null);
        if (measure !== undefined) values.push(measure);
        return values;
      };
      return measures.length > 0 ? measures.map((m) => value(m)) : [value()];
    };
  }

  // The buckets of the single time dimension on x, when missing dates must be filled in.
  #timeSeries(config: NormalizedPivotConfig, index: number): string[] | undefined {
    if (!config.fillMissingDates || config.x.length !== 1) return undefined;
    const pivotTds = withGranularity(this.#response.pivotQuery).map(timeDimensionMember);
    if (pivotTds.length !== 1 || pivotTds[0] !== config.x[0]) return undefined;
    const result = this.#response.results[index];
    const td = result?.query.timeDimensions?.[0];
    if (td === undefined || !isGranularity(td.granularity)) return undefined;
    let range = td.dateRange;
    if (range === undefined) {
      const member = timeDimensionMember(td);
      const values = this.#data(index)
        .map((row) => row[member])
        .filter((v): v is string => typeof v === 'string' && v.length > 0)
        .sort();
      const first = values[0];
      const last = values[values.length - 1];
      if (first === undefined || last === undefined) return undefined;
      range = [first, last];
    }
    return timeSeries(range[0], range[1], td.granularity, padsToDay(td.dateRange, td.granularity));
  }

  #pivotOne(config: NormalizedPivotConfig, index: number): PivotRow[] {
    const xAxis = this.#axisValues(config.x, index);
    const yAxis = this.#axisValues(config.y, index);
    const entries = this.#data(index).flatMap((row) => xAxis(row).map((xValues) => ({ xValues, row })));

    let groups: { xValues: AxisValues; rows: { xValues: AxisValues; row: Row }[] }[];
    const series = this.#timeSeries(config, index);
    if (series !== undefined) {
      const byX = new Map<CellValue, { xValues: AxisValues; row: Row }[]>();
      for (const e of entries) byX.set(e.xValues[0] ?? null, [...(byX.get(e.xValues[0] ?? null) ?? []), e]);
      groups = series.map((d) => ({ xValues: [d], rows: byX.get(d) ?? [{ xValues: [d], row: {} }] }));
    } else {
      const byKey = new Map<string, { xValues: AxisValues; row: Row }[]>();
      for (const e of entries) {
        const key = axisValuesString(e.xValues);
        const list = byKey.get(key);
        if (list === undefined) byKey.set(key, [e]);
        else list.push(e);
      }
      groups = [...byKey.values()].map((rows) => ({ xValues: rows[0]?.xValues ?? [], rows }));
    }

    const allY = new Map<string, AxisValues>();
    for (const group of groups) {
      for (const { row } of group.rows) {
        if (Object.keys(row).length === 0) continue;
        for (const values of yAxis(row)) allY.set(values.join(), values);
      }
    }
    const measureOnX = config.x.includes('measures');
    return groups.map(({ rows }) => {
      const xValues = rows[0]?.xValues ?? [];
      const byY = new Map<string, Row>();
      for (const { row } of rows) for (const values of yAxis(row)) byY.set(axisValuesString(values), row);
      return {
        xValues,
        yValuesArray: [...allY.values()].map((yValues): readonly [AxisValues, CellValue] => {
          const measure = String((measureOnX ? xValues : yValues)[(measureOnX ? xValues : yValues).length - 1]);
          const row = byY.get(axisValuesString(yValues)) ?? {};
          return [yValues, row[measure] ?? config.fillWithValue ?? 0];
        }),
      };
    });
  }

  #pivot(config: NormalizedPivotConfig): PivotRow[] {
    const results = this.#response.results;
    if (results.length <= 1) return this.#pivotOne(config, 0);
    const pivots = results.map((_, i) => this.#pivotOne(config, i));
    const shortest = pivots.reduce((a, b) => (b.length < a.length ? b : a));
    return shortest.map((row, i) => ({
      xValues: row.xValues,
      yValuesArray: pivots.flatMap((p) => p[i]?.yValuesArray ?? []),
    }));
  }
}

// Charts want numbers; Cube's chartPivot parses numeric strings the same loose way.
function toChartValue(value: CellValue): CellValue {
  if (!value) return value;
  const n = Number.parseFloat(String(value));
  return Number.isNaN(n) ? value : n;
}
