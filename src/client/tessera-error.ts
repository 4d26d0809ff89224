/**
 * The client's errors: one base class with a stable `code`, so callers can
 * `switch (e.code)` or test `e instanceof TesseraHttpError`.
 */
import type { ErrorCode } from '../errors/engine-error.js';

/** Codes the client itself raises (the server's codes start with `ERR_` too, see `ErrorCode`). */
export type ClientErrorCode =
  | 'ERR_CLIENT_TOKEN_PROVIDER'
  | 'ERR_CLIENT_NETWORK'
  | 'ERR_CLIENT_TIMEOUT'
  | 'ERR_CLIENT_ABORTED'
  | 'ERR_CLIENT_BAD_RESPONSE'
  | 'ERR_CLIENT_HTTP_STATUS';

/** Any code a `TesseraError` may carry; unknown server codes pass through as strings. */
export type TesseraErrorCode = ClientErrorCode | ErrorCode | (string & {});

export class TesseraError extends Error {
  readonly code: TesseraErrorCode;
  constructor(code: TesseraErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraError';
    this.code = code;
  }
}

/** The server answered with a status other than 200. */
export class TesseraHttpError extends TesseraError {
  readonly status: number;
  /** The parsed body, for callers that need more than `code` and `message`. */
  readonly body: unknown;
  readonly requestId: string | undefined;
  constructor(status: number, code: TesseraErrorCode, message: string, body: unknown, requestId: string | undefined) {
    super(code, message);
    this.name = 'TesseraHttpError';
    this.status = status;
    this.body = body;
    this.requestId = requestId;
  }
}

/** The token provider threw, rejected, or gave something other than a non-empty string. */
export class TesseraTokenError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CLIENT_TOKEN_PROVIDER', message, options);
    this.name = 'TesseraTokenError';
  }
}

/** The request never got an answer: network failure, timeout or abort. */
export class TesseraNetworkError extends TesseraError {
  constructor(
    code: 'ERR_CLIENT_NETWORK' | 'ERR_CLIENT_TIMEOUT' | 'ERR_CLIENT_ABORTED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'TesseraNetworkError';
  }
}

/** The server answered 200 with something that is not the expected JSON. */
export class TesseraResponseError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CLIENT_BAD_RESPONSE', message, options);
    this.name = 'TesseraResponseError';
  }
}
