/**
 * The one table from error code to HTTP status. Adding a code to
 * `ERROR_CODES` without a status here fails to compile.
 */
import type { ErrorCode } from '../errors/engine-error.js';

export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  // Token problems are 403, as Cube answers them.
  ERR_AUTH_MISSING: 403,
  ERR_AUTH_INVALID_TOKEN: 403,
  ERR_AUTH_TOKEN_EXPIRED: 403,
  ERR_AUTH_CONTEXT_NOT_OBJECT: 403,
  ERR_AUTH_CONTEXT_INVALID: 403,
  ERR_AUTH_DENIED: 403,
  ERR_AUTH_SCOPE: 403,
  // The caller did nothing wrong when the key server is down.
  ERR_AUTH_JWKS_UNAVAILABLE: 503,
  // API keys and operator sessions follow HTTP's 401 (Grain's rule: one answer for every bad key).
  ERR_AUTH_INVALID_KEY: 401,
  ERR_AUTH_BAD_CREDENTIALS: 401,
  ERR_AUTH_SESSION_REQUIRED: 401,
  ERR_AUTH_RATE_LIMITED: 429,
  ERR_AUTH_SETUP_DONE: 410,
  // Login before the first-run setup: forbidden until an admin password exists.
  ERR_AUTH_SETUP_REQUIRED: 403,
  ERR_AUTH_WEAK_PASSWORD: 400,
  // A row filter would match everything because the context lacks its claims: refused like a forbidden member.
  ERR_AUTH_CLAIMS_MISSING: 403,
  // Two credentials (or one header twice) cannot be read as one security context.
  ERR_AUTH_AMBIGUOUS_CREDENTIALS: 400,
  ERR_AUTH_SETUP_TOKEN: 401,
  ERR_AUTH_CROSS_SITE: 403,
  ERR_AUTH_METHOD_NOT_ALLOWED: 405,
  ERR_QUERY_PARAM_REQUIRED: 400,
  ERR_QUERY_INVALID_JSON: 400,
  ERR_QUERY_INVALID: 400,
  ERR_QUERY_UNKNOWN_MEMBER: 400,
  ERR_QUERY_LIMIT_EXCEEDED: 400,
  ERR_QUERY_FILTER_REQUIRED: 400,
  ERR_QUERY_INVALID_DATE: 400,
  ERR_QUERY_HIDDEN_MEMBER: 400,
  ERR_QUERY_FORBIDDEN_MEMBER: 403,
  // A value PostgreSQL could not convert to its column's type is the caller's mistake.
  ERR_QUERY_INVALID_VALUE: 400,
  ERR_PLAN_NO_JOIN_PATH: 400,
  ERR_PLAN_UNSUPPORTED: 400,
  ERR_DB_UNAVAILABLE: 503,
  ERR_DB_TIMEOUT: 504,
  ERR_DB_QUERY_FAILED: 500,
  ERR_RATE_LIMITED: 429,
  ERR_NOT_FOUND: 404,
  ERR_BAD_REQUEST: 400,
  ERR_INTERNAL: 500,
});
