/**
 * Budgets on a decoded `query` param, checked before it is parsed, planned or
 * sent anywhere. Every walk is iterative, so no input nests deep enough to
 * overflow the stack. Each refusal is a 400 that names the limit and its key.
 */
import type { QueryBudgets } from '../config/config.js';
import { EngineError } from '../errors/engine-error.js';

/** Defaults a real dashboard never meets; `loadConfig` documents their keys. */
export const DEFAULT_BUDGETS: QueryBudgets = Object.freeze({
  maxFilterDepth: 20,
  maxFilters: 500,
  maxFilterValues: 10_000,
  maxParams: 30_000,
  maxValueLength: 10_000,
  maxDateLength: 100,
  maxMembers: 200,
  maxMultiQueryRows: 50_000,
});

export interface BudgetOptions {
  /** Rows a query without `limit` returns (the configured default limit). */
  readonly defaultLimit: number;
}

const KEYS: Readonly<Record<keyof QueryBudgets, string>> = {
  maxFilterDepth: 'TESSERA_MAX_FILTER_DEPTH',
  maxFilters: 'TESSERA_MAX_FILTERS',
  maxFilterValues: 'TESSERA_MAX_FILTER_VALUES',
  maxParams: 'TESSERA_MAX_QUERY_PARAMS',
  maxValueLength: 'TESSERA_MAX_VALUE_LENGTH',
  maxDateLength: 'TESSERA_MAX_DATE_LENGTH',
  maxMembers: 'TESSERA_MAX_MEMBERS',
  maxMultiQueryRows: 'TESSERA_MAX_MULTI_QUERY_ROWS',
};

const DATE_OPERATORS = new Set(['inDateRange', 'notInDateRange', 'onTheDate', 'beforeDate', 'beforeOrOnDate', 'afterDate', 'afterOrOnDate']);

/** JSON levels a well-formed query needs besides its filter nesting (query → filters → filter → values …). */
const STRUCTURAL_DEPTH = 8;

function exceeded(budgets: QueryBudgets, key: keyof QueryBudgets, what: string): EngineError {
  return new EngineError(
    'ERR_QUERY_LIMIT_EXCEEDED',
    `The query exceeds the limit of ${budgets[key]} ${what} (${KEYS[key]}).`,
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayAt = (o: Record<string, unknown>, key: string): unknown[] => (Array.isArray(o[key]) ? (o[key] as unknown[]) : []);

/**
 * The deepest nesting of arrays and objects in `value`, walking iteratively and
 * stopping as soon as it passes `ceiling`.
 */
export function jsonDepthExceeds(value: unknown, ceiling: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > ceiling) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Throws a 400 naming the first budget `decoded` (one query, or an array of queries) exceeds. */
export function checkQueryBudgets(decoded: unknown, budgets: QueryBudgets, opts: BudgetOptions): void {
  if (jsonDepthExceeds(decoded, budgets.maxFilterDepth * 2 + STRUCTURAL_DEPTH)) {
    throw exceeded(budgets, 'maxFilterDepth', 'levels of filter nesting');
  }
  const queries = Array.isArray(decoded) ? decoded.filter(isObject) : isObject(decoded) ? [decoded] : [];
  let rows = 0;
  let multi = Array.isArray(decoded);
  for (const query of queries) {
    checkOne(query, budgets);
    const limit = typeof query.limit === 'number' && query.limit >= 0 ? query.limit : opts.defaultLimit;
    const compares = arrayAt(query, 'timeDimensions')
      .filter(isObject)
      .reduce((n, td) => Math.max(n, arrayAt(td, 'compareDateRange').length), 0);
    if (compares > 0) multi = true;
    rows += limit * Math.max(1, compares);
  }
  if (multi && rows > budgets.maxMultiQueryRows) {
    throw exceeded(budgets, 'maxMultiQueryRows', 'rows in a compare or blending request (the sum of their limits)');
  }
}

function checkOne(query: Record<string, unknown>, budgets: QueryBudgets): void {
  const order = query.order;
  const orderCount = Array.isArray(order) ? order.length : isObject(order) ? Object.keys(order).length : 0;
  const members = arrayAt(query, 'measures').length + arrayAt(query, 'dimensions').length + arrayAt(query, 'segments').length
    + arrayAt(query, 'timeDimensions').length + orderCount;
  if (members > budgets.maxMembers) throw exceeded(budgets, 'maxMembers', 'members (measures, dimensions, segments, time dimensions and order entries)');

  let params = 0;
  for (const td of arrayAt(query, 'timeDimensions').filter(isObject)) {
    const ranges = [td.dateRange, ...arrayAt(td, 'compareDateRange')];
    for (const range of ranges) {
      for (const text of Array.isArray(range) ? range : [range]) {
        if (typeof text === 'string' && text.length > budgets.maxDateLength) throw exceeded(budgets, 'maxDateLength', 'characters in a date');
      }
      if (range !== undefined) params += 2;
    }
  }

  let filters = 0;
  const stack: [unknown, number][] = arrayAt(query, 'filters').map((f) => [f, 1]);
  while (stack.length > 0) {
    const [f, depth] = stack.pop()!;
    if (!isObject(f)) continue;
    filters += 1;
    if (filters > budgets.maxFilters) throw exceeded(budgets, 'maxFilters', 'filters');
    const group = Array.isArray(f.and) ? f.and : Array.isArray(f.or) ? f.or : undefined;
    if (group) {
      if (depth + 1 > budgets.maxFilterDepth) throw exceeded(budgets, 'maxFilterDepth', 'levels of filter nesting');
      for (const child of group) stack.push([child, depth + 1]);
      continue;
    }
    const values = arrayAt(f, 'values');
    if (values.length > budgets.maxFilterValues) throw exceeded(budgets, 'maxFilterValues', 'values in one filter');
    const isDate = typeof f.operator === 'string' && DATE_OPERATORS.has(f.operator);
    const maxLength = isDate ? budgets.maxDateLength : budgets.maxValueLength;
    for (const v of values) {
      if (typeof v === 'string' && v.length > maxLength) {
        throw isDate ? exceeded(budgets, 'maxDateLength', 'characters in a date') : exceeded(budgets, 'maxValueLength', 'characters in a filter value');
      }
    }
    params += values.length;
  }
  if (params > budgets.maxParams) throw exceeded(budgets, 'maxParams', 'bound parameters in one query');
}
