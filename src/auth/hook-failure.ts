/**
 * What an exception thrown by an operator hook (checkAuth, queryRewrite,
 * contextToGroups) becomes: an `AuthError` keeps its status and message,
 * anything else is a 403 with a generic message and the cause kept for the log.
 */
import { AuthError, EngineError } from '../errors/engine-error.js';

/** Names under which a hook's chosen-status error may arrive (ours from another copy of the package, or Cube's). */
const STATUS_ERROR_NAMES = new Set(['AuthError', 'CubejsHandlerError']);

export function hookFailure(error: unknown, genericMessage: string): EngineError {
  if (error instanceof AuthError) return error;
  // A config file importing `tessera` may load a different copy of AuthError than ours, so match by shape.
  if (error instanceof Error && STATUS_ERROR_NAMES.has(error.name)) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599) {
      return new AuthError(status, error.message, { cause: error });
    }
  }
  return new EngineError('ERR_AUTH_DENIED', genericMessage, { cause: error });
}
