/**
 * The errors of the authenticate stage. Messages are what Cube sends where
 * Cube has one; the reason for the log goes in `cause`, never in the message.
 */
import { EngineError } from '../errors/engine-error.js';

/** A reason string becomes an Error, so the error log shows it (the log keeps causes' messages). */
const asCause = (reason: unknown): unknown => (typeof reason === 'string' ? new Error(reason) : reason);

export const authErrors = {
  missing: (): EngineError => new EngineError('ERR_AUTH_MISSING', "Authorization header isn't set"),
  invalidToken: (reason: unknown): EngineError =>
    new EngineError('ERR_AUTH_INVALID_TOKEN', 'Invalid token', { cause: asCause(reason) }),
  expired: (reason: unknown): EngineError =>
    new EngineError('ERR_AUTH_TOKEN_EXPIRED', 'Token expired', { cause: asCause(reason) }),
  notYetValid: (reason: unknown): EngineError =>
    new EngineError('ERR_AUTH_INVALID_TOKEN', 'Token is not valid yet', { cause: asCause(reason) }),
  jwksUnavailable: (reason: unknown): EngineError =>
    new EngineError(
      'ERR_AUTH_JWKS_UNAVAILABLE',
      'The token signing keys could not be fetched from the JWKS endpoint; try again later',
      { cause: asCause(reason) },
    ),
  contextNotObject: (what: string, value: unknown): EngineError =>
    new EngineError('ERR_AUTH_CONTEXT_NOT_OBJECT', `${what} must be a JSON object, got ${describeType(value)}`),
  ambiguous: (reason: string): EngineError =>
    new EngineError('ERR_AUTH_AMBIGUOUS_CREDENTIALS', 'The request must carry exactly one credential, in one header', {
      cause: asCause(reason),
    }),
  contextInvalid: (message: string, reason?: unknown): EngineError =>
    new EngineError('ERR_AUTH_CONTEXT_INVALID', message, reason === undefined ? {} : { cause: asCause(reason) }),
};

/** A type name for messages; never the value itself, which may be secret. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'nothing';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a ${t}`;
}

/** Plain JSON objects only: arrays, null, class instances and functions are not contexts. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
