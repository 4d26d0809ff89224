/**
 * The one error hierarchy of Tessera. Every error a caller can act on is an
 * `EngineError` with a stable `code`; the HTTP mapping lives only in
 * `src/server/error-status.ts`. Messages are one sentence and never contain
 * tokens, SQL parameters or stack traces.
 */

/** Stable error codes, grouped by pipeline stage. */
export const ERROR_CODES = [
  // authenticate
  'ERR_AUTH_MISSING',
  'ERR_AUTH_INVALID_TOKEN',
  'ERR_AUTH_TOKEN_EXPIRED',
  'ERR_AUTH_CONTEXT_NOT_OBJECT',
  'ERR_AUTH_CONTEXT_INVALID',
  'ERR_AUTH_DENIED',
  'ERR_AUTH_JWKS_UNAVAILABLE',
  'ERR_AUTH_INVALID_KEY',
  'ERR_AUTH_SCOPE',
  'ERR_AUTH_RATE_LIMITED',
  'ERR_AUTH_SETUP_DONE',
  'ERR_AUTH_WEAK_PASSWORD',
  'ERR_AUTH_BAD_CREDENTIALS',
  'ERR_AUTH_SESSION_REQUIRED',
  'ERR_AUTH_METHOD_NOT_ALLOWED',
  'ERR_AUTH_SETUP_REQUIRED',
  'ERR_AUTH_CLAIMS_MISSING',
  'ERR_AUTH_AMBIGUOUS_CREDENTIALS',
  'ERR_AUTH_SETUP_TOKEN',
  'ERR_AUTH_CROSS_SITE',
  // validate
  'ERR_QUERY_PARAM_REQUIRED',
  'ERR_QUERY_INVALID_JSON',
  'ERR_QUERY_INVALID',
  'ERR_QUERY_UNKNOWN_MEMBER',
  'ERR_QUERY_LIMIT_EXCEEDED',
  'ERR_QUERY_FILTER_REQUIRED',
  'ERR_QUERY_INVALID_DATE',
  'ERR_QUERY_HIDDEN_MEMBER',
  'ERR_QUERY_FORBIDDEN_MEMBER',
  'ERR_QUERY_INVALID_VALUE',
  // plan
  'ERR_PLAN_NO_JOIN_PATH',
  'ERR_PLAN_UNSUPPORTED',
  // execute
  'ERR_DB_UNAVAILABLE',
  'ERR_DB_TIMEOUT',
  'ERR_DB_QUERY_FAILED',
  'ERR_RATE_LIMITED',
  // generic
  'ERR_NOT_FOUND',
  'ERR_BAD_REQUEST',
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface EngineErrorOptions {
  /** Detail for the log only; never sent to the client. */
  readonly cause?: unknown;
  /** Overrides the status from the status table (used by `AuthError`). */
  readonly status?: number;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The root of every error Tessera raises on purpose: `EngineError` (requests), `ModelError` (model files), `ConfigError` (options). */
export class TesseraError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraError';
  }
}

export class EngineError extends TesseraError {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, options: EngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.status = options.status;
    this.headers = options.headers ?? {};
  }
}

/**
 * Thrown by a user's `checkAuth` (or anything in the auth stage) to answer
 * with a chosen status: `throw new AuthError(401, 'Session expired')`.
 */
export class AuthError extends EngineError {
  constructor(status: number, message: string, options: Omit<EngineErrorOptions, 'status'> = {}) {
    super('ERR_AUTH_DENIED', message, {
      ...options,
      status,
    });
    this.name = 'AuthError';
  }
}

/** Model files that cannot be loaded. Stops start-up; never reaches HTTP. */
export class ModelError extends TesseraError {
  readonly file: string | undefined;
  readonly member: string | undefined;
  constructor(message: string, where: { file?: string; member?: string } = {}, cause?: unknown) {
    const prefix = [where.file, where.member].filter(Boolean).join(': ');
    super(prefix ? `${prefix}: ${message}` : message, cause === undefined ? undefined : { cause });
    this.name = 'ModelError';
    this.file = where.file;
    this.member = where.member;
  }
}

/** Options that are wrong. Stops start-up and names the option. */
export class ConfigError extends TesseraError {
  readonly option: string;
  constructor(option: string, message: string) {
    super(`Invalid configuration option ${option}: ${message}`);
    this.name = 'ConfigError';
    this.option = option;
  }
}

export const isEngineError = (e: unknown): e is EngineError => e instanceof EngineError;
