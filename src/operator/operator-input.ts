/**
 * The zod schemas of every operator request body and query string, and the
 * one parser that turns a failed parse into a 400 naming the field.
 */
import { z } from 'zod';
import { EngineError } from '../errors/engine-error.js';

const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;
const CONTEXT_KEY = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
const MAX_CONTEXT_BYTES = 4096;
/** Longest password accepted at the door; the policy's own maximum is stricter for new passwords. */
const MAX_PASSWORD_INPUT = 1024;

const password = (field: string) =>
  z.string(`${field} must be a string`).max(MAX_PASSWORD_INPUT, `${field} must be at most ${MAX_PASSWORD_INPUT} characters`);

export const setupBody = z.strictObject({ password: password('password') });
export const loginBody = z.strictObject({ password: password('password').min(1, 'password must not be empty') });
export const passwordChangeBody = z.strictObject({
  current_password: password('current_password').min(1, 'current_password must not be empty'),
  new_password: password('new_password'),
});

/** Property names of a bound context, checked at every depth. */
function contextKeysValid(value: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  if (Array.isArray(value)) return value.every((v) => contextKeysValid(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([k, v]) => CONTEXT_KEY.test(k) && contextKeysValid(v, depth + 1));
  }
  return true;
}

export const createKeyBody = z.strictObject({
  name: z
    .string('name must be a string')
    .trim()
    .min(1, 'name must not be empty')
    .max(100, 'name must be at most 100 characters')
    .regex(PRINTABLE_ASCII, 'name must contain printable ASCII characters only'),
  scopes: z
    .array(z.enum(['query', 'meta', 'metrics'], 'scopes may contain only "query", "meta" and "metrics"'), 'scopes must be an array')
    .min(1, 'scopes must name at least one scope')
    .max(3, 'scopes must not repeat a scope')
    .refine((s) => new Set(s).size === s.length, 'scopes must not repeat a scope'),
  securityContext: z
    .record(z.string(), z.unknown(), 'securityContext must be a JSON object')
    .refine(
      (ctx) => contextKeysValid(ctx),
      'securityContext property names must be ASCII identifiers of at most 64 characters, nested at most 8 deep',
    )
    .refine(
      (ctx) => Buffer.byteLength(JSON.stringify(ctx), 'utf8') <= MAX_CONTEXT_BYTES,
      `securityContext must be at most ${MAX_CONTEXT_BYTES} bytes of JSON`,
    )
    .optional(),
  /** Issue 12: the explicit choice of a key bound to no tenant (instead of a securityContext). */
  allTenants: z.literal(true, 'allTenants can only be true').optional(),
  expiresAt: z.iso
    .datetime({ offset: true, message: 'expiresAt must be an ISO 8601 date-time such as 2030-01-01T00:00:00Z' })
    .optional(),
});

const queryInt = (field: string, min: number, max: number, fallback: number) =>
  z
    .string(`${field} must be given once`)
    .regex(/^\d{1,9}$/, `${field} must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `${field} must be a whole number from ${min} to ${max}`).max(max, `${field} must be a whole number from ${min} to ${max}`))
    .optional()
    .transform((v) => v ?? fallback);

export const listKeysQuery = z.strictObject({
  limit: queryInt('limit', 1, 100, 20),
  offset: queryInt('offset', 0, 100_000_000, 0),
});

// Only a short printable-ASCII field name is repeated back to the caller.
const fieldName = (key: string): string =>
  key.length <= 64 && /^[\x21-\x7E]+$/.test(key) ? JSON.stringify(key) : '(a field with an unusable name)';

/** Parses operator input; the first problem becomes a 400 with its own message. */
export function parseOperatorInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const message =
    issue === undefined
      ? 'The request is invalid.'
      : issue.code === 'unrecognized_keys'
        ? `Unknown field${issue.keys.length > 1 ? 's' : ''} in the request: ${issue.keys.map(fieldName).join(', ')}.`
        : issue.code === 'invalid_type' && issue.path.length === 0
          ? 'The request body must be a JSON object.'
          : `${issue.message}.`;
  throw new EngineError('ERR_BAD_REQUEST', message);
}
