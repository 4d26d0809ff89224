/**
 * Cube's query wire format, checked with zod. Unknown keys are rejected, as Cube does.
 */
import { z } from 'zod';
import { EngineError } from '../errors/engine-error.js';
import { FILTER_OPERATORS, GRANULARITIES } from './validated-query.js';

const MEMBER = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;
const MEMBER_OR_GRANULARITY = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

const member = z.string().max(256).regex(MEMBER, 'must look like Cube.member');
const memberOrGranularity = z.string().max(256).regex(MEMBER_OR_GRANULARITY, 'must look like Cube.member');
// PostgreSQL text cannot hold NUL, so such a value is refused here rather than by the database.
const filterValue = z.union([
  z.string().max(10_000).refine((v) => !v.includes('\u0000'), 'must not contain a NUL character'),
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

const leafFilter = z.strictObject({
  member: member.optional(),
  dimension: member.optional(),
  operator: z.enum(FILTER_OPERATORS),
  values: z.array(filterValue).max(1000).optional(),
});

const filter: z.ZodType<WireFilter> = z.lazy(() =>
  z.union([
    leafFilter,
    z.strictObject({ and: z.array(filter).max(100) }),
    z.strictObject({ or: z.array(filter).max(100) }),
  ]),
);

const dateRange = z.union([z.string().max(200), z.array(z.string().max(64)).min(1).max(2)]);

const timeDimension = z.strictObject({
  dimension: member,
  granularity: z.enum(GRANULARITIES).optional(),
  dateRange: dateRange.optional(),
  compareDateRange: z.array(dateRange).min(1).max(20).optional(),
});

const direction = z.enum(['asc', 'desc']);

export const wireQuerySchema = z.strictObject({
  measures: z.array(member).max(100).optional(),
  dimensions: z.array(memberOrGranularity).max(100).optional(),
  segments: z.array(member).max(100).optional(),
  filters: z.array(filter).max(100).optional(),
  timeDimensions: z.array(timeDimension).max(20).optional(),
  order: z
    .union([z.record(memberOrGranularity, direction), z.array(z.tuple([memberOrGranularity, direction])).max(100)])
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
