/**
 * The one error handler: an EngineError becomes its status (from the table,
 * or its own override) and `{error, code}`; anything else is a 500 that
 * shows only the request id, with the full error in the log.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { EngineError } from '../errors/engine-error.js';
import { ERROR_STATUS } from './error-status.js';
import { requestIdOf } from './request-id.js';

export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly requestId?: string;
}

/** Seconds a 503 asks the client to wait when its error named no better time. */
const DEFAULT_RETRY_AFTER_SEC = 5;

/** Errors raised by express and body-parser carry a 4xx status and a `type`. */
interface HttpLikeError {
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly type?: unknown;
  readonly expose?: unknown;
}

const BODY_PARSER_MESSAGES: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'The request body is not valid JSON.',
  'entity.too.large': 'The request body is too large.',
  'encoding.unsupported': 'The request body encoding is not supported.',
  'charset.unsupported': 'The request body charset is not supported.',
  'request.aborted': 'The request was aborted.',
  'request.size.invalid': 'The request body size does not match its Content-Length.',
  'entity.verify.failed': 'The request body could not be verified.',
  'stream.encoding.set': 'The request body could not be read.',
  'stream.not.readable': 'The request body could not be read.',
};

/** Turns framework client errors (bad JSON, too large) into EngineErrors; undefined for anything else. */
function fromHttpError(err: unknown): EngineError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as HttpLikeError;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499 || e.expose === false) return undefined;
  const message = (typeof e.type === 'string' && BODY_PARSER_MESSAGES[e.type]) || 'The request is malformed.';
  return new EngineError('ERR_BAD_REQUEST', message, { status, cause: err });
}

/** Status, headers and body for any thrown value. */
export function describeError(err: unknown, requestId: string): { status: number; headers: Readonly<Record<string, string>>; body: ErrorBody; known: boolean } {
  const engineError = err instanceof EngineError ? err : fromHttpError(err);
  if (!engineError) {
    return {
      status: 500,
      headers: {},
      body: { error: `Internal server error (request id ${requestId})`, code: 'ERR_INTERNAL', requestId },
      known: false,
    };
  }
  const override = engineError.status;
  const status = override !== undefined && Number.isInteger(override) && override >= 400 && override <= 599
    ? override
    : ERROR_STATUS[engineError.code];
  const body: ErrorBody = status >= 500
    ? { error: engineError.message, code: engineError.code, requestId }
    : { error: engineError.message, code: engineError.code };
  // Every 503 tells the client when to come back, whichever stage raised it.
  const headers = status === 503 && !Object.keys(engineError.headers).some((h) => h.toLowerCase() === 'retry-after')
    ? { ...engineError.headers, 'Retry-After': String(DEFAULT_RETRY_AFTER_SEC) }
    : engineError.headers;
  return { status, headers, body, known: true };
}

/** Sends `err` as Tessera's error response and logs it; usable outside the express error chain. */
export function sendError(req: Request, res: Response, err: unknown, logger?: Logger): void {
  const requestId = requestIdOf(req);
  const { status, headers, body, known } = describeError(err, requestId);
  const log = logger ?? req.log;
  if (log) {
    const cause = err instanceof Error && err.cause !== undefined ? err.cause : undefined;
    if (!known) log.error({ err, requestId }, 'unexpected error');
    else if (status >= 500) log.error({ code: body.code, status, err: cause ?? err, requestId }, body.error);
    else log.info({ code: body.code, status, cause: cause instanceof Error ? cause.message : undefined, requestId }, body.error);
  }
  if (res.headersSent) {
    // Half a response is already out; ending the socket is the only honest signal left.
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(status).json(body);
}

/** The express error middleware (must keep four parameters). */
export function createErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    sendError(req, res, err, req.log ?? logger);
  };
}
