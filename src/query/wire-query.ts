/**
 * Cube's query wire format, checked with zod. Unknown keys are rejected, as Cube does.
 */
import { z } from 'zod';
import { EngineError } from '../errors/engine-error.js';
import { jsonDepthExceeds } from './check-budgets.js';
import { FILTER_OPERATORS } from './validated-query.js';

/**
 * Size ceilings here sit above the largest configurable budget (`check-budgets.ts`
 * enforces the configured ones first); they only keep a query that skipped the
 * budgets, such as a `queryRewrite` result, from reaching the compiler unbounded.
 */
const CEILING = { values: 60_000, list: 100_000, members: 10_000, text: 1_000_000, date: 1000 } as const;
/** JSON nesting zod may walk recursively without any risk to the stack. */
const MAX_JSON_DEPTH = 256;

const MEMBER = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;
const MEMBER_OR_GRANULARITY = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

const member = z.string().max(256).regex(MEMBER, 'must look like Cube.member');
const memberOrGranularity = z.string().max(256).regex(MEMBER_OR_GRANULARITY, 'must look like Cube.member');
// PostgreSQL text cannot hold NUL, so such a value is refused here rather than by the database.
const filterValue = z.union([
  z.string().max(CEILING.text).refine((v) => !v.includes('\u0000'), 'must not contain a NUL character'),
  z.number().finite(),
  z.boolean(),
  z.null(),
]);

export interface WireLeafFilter {
  member?: string | undefined;
  dimension?: string | undefined;
  operator: (typeof FILTER_OPERATORS)[number];
  values?: (string | number | boolean | null)[] | undefined;
}
export type WireFilter = WireLeafFilter | { and: WireFilter[] } | { or: WireFilter[] };

/** Operators whose SQL needs a value to compare with; `[null]` alone gives them nothing. */
const NEEDS_NON_NULL = new Set<string>(['contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith', 'gt', 'gte', 'lt', 'lte']);

const leafFilter = z
  .strictObject({
    member: member.optional(),
    dimension: member.optional(),
    operator: z.enum(FILTER_OPERATORS),
    values: z.array(filterValue).max(CEILING.values).optional(),
  })
  .refine((f) => !(NEEDS_NON_NULL.has(f.operator) && f.values !== undefined && f.values.length > 0 && f.values.every((v) => v === null)), {
    message: 'needs at least one value that is not null for this operator',
  });

const filter: z.ZodType<WireFilter> = z.lazy(() =>
  z.union([
    leafFilter,
    z.strictObject({ and: z.array(filter).max(CEILING.list) }),
    z.strictObject({ or: z.array(filter).max(CEILING.list) }),
  ]),
);

const dateRange = z.union([z.string().max(CEILING.date), z.array(z.string().max(CEILING.date)).min(1).max(2)]);

const timeDimension = z.strictObject({
  dimension: member,
  granularity: z.string().max(64).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a granularity name').optional(),
  dateRange: dateRange.optional(),
  compareDateRange: z.array(dateRange).min(1).max(20).optional(),
});

const direction = z.enum(['asc', 'desc']);

export const wireQuerySchema = z.strictObject({
  measures: z.array(member).max(CEILING.members).optional(),
  dimensions: z.array(memberOrGranularity).max(CEILING.members).optional(),
  segments: z.array(member).max(CEILING.members).optional(),
  filters: z.array(filter).max(CEILING.list).optional(),
  timeDimensions: z.array(timeDimension).max(CEILING.members).optional(),
  order: z
    .union([z.record(memberOrGranularity, direction), z.array(z.tuple([memberOrGranularity, direction])).max(CEILING.members)])
    .optional(),
  limit: z.number().int().min(0).optional(),
  offset: z.number().int().min(0).max(100_000_000).optional(),
  timezone: z.string().max(64).optional(),
  total: z.boolean().optional(),
  ungrouped: z.boolean().optional(),
  responseFormat: z.enum(['default', 'compact', 'columnar']).optional(),
  cache: z.enum(['stale-if-slow', 'stale-while-revalidate', 'must-revalidate', 'no-cache']).optional(),
});

export type WireQuery = z.infer<typeof wireQuerySchema>;

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

/** Turns the first zod issue into one sentence that names the field. */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const base = pathText(issue.path);
    const key = issue.keys[0] ?? '';
    return `Invalid query format: "${base ? `${base}.` : ''}${key}" is not allowed`;
  }
  const where = pathText(issue.path) || 'query';
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `Invalid query format: "${where}" must be one of ${issue.values.map(String).join(', ')}`;
  }
  if (issue.code === 'invalid_union') {
    return `Invalid query format: "${where}" is not a valid filter, time dimension or value`;
  }
  return `Invalid query format: "${where}" ${issue.message.replace(/^Invalid input: /, '').toLowerCase()}`;
}

/** Accepts one query object (already JSON-decoded) and checks its shape. */
export function parseWireQuery(input: unknown): WireQuery {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EngineError('ERR_QUERY_INVALID', 'Invalid query format: the query must be a JSON object');
  }
  // zod walks nested filters recursively, so depth is bounded before it looks.
  if (jsonDepthExceeds(input, MAX_JSON_DEPTH)) {
    throw new EngineError('ERR_QUERY_LIMIT_EXCEEDED', `The query nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  const result = wireQuerySchema.safeParse(input);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new EngineError('ERR_QUERY_INVALID', first ? describeIssue(first) : 'Invalid query format');
  }
  return result.data;
}

/**
 * Reads the `query` param of GET (a JSON string) or POST (an object or a JSON string).
 * Returns one query or an array of queries (blending).
 */
export function decodeQueryParam(raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === '' || raw === 'undefined') {
    throw new EngineError('ERR_QUERY_PARAM_REQUIRED', 'Query param is required');
  }
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new EngineError('ERR_QUERY_INVALID_JSON', 'Unable to decode query param as JSON');
    }
  }
  if (typeof raw === 'object') return raw;
  throw new EngineError('ERR_QUERY_INVALID', 'Invalid query format: the query must be a JSON object');
}
