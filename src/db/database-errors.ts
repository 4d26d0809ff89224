/**
 * SQLSTATE, socket and pool failures → the EngineError a client sees. One table
 * by SQLSTATE class; the raw database message stays in the log only.
 */
import { EngineError, type ErrorCode } from '../errors/engine-error.js';

export type DatabaseErrorCode = 'ERR_DB_UNAVAILABLE' | 'ERR_DB_TIMEOUT' | 'ERR_DB_QUERY_FAILED' | 'ERR_QUERY_INVALID_VALUE' | 'ERR_QUERY_LIMIT_EXCEEDED';

/** Exact SQLSTATEs first, then their two-letter class; anything else is a failed query (a bug, 500). */
const BY_SQLSTATE: Readonly<Record<string, DatabaseErrorCode>> = {
  '57014': 'ERR_DB_TIMEOUT', // statement_timeout or a cancel
  '3D000': 'ERR_DB_UNAVAILABLE', // database does not exist: the server is misconfigured, not the query
  '40001': 'ERR_DB_UNAVAILABLE', // serialization failure: retry later
  '40P01': 'ERR_DB_UNAVAILABLE', // deadlock: retry later
  '55P03': 'ERR_DB_UNAVAILABLE', // lock not available
  '55006': 'ERR_DB_UNAVAILABLE', // object in use
  '25P03': 'ERR_DB_UNAVAILABLE', // idle-in-transaction timeout ended the session
  '2201B': 'ERR_QUERY_INVALID_VALUE', // invalid regular expression from a value
};
const BY_CLASS: Readonly<Record<string, DatabaseErrorCode>> = {
  '08': 'ERR_DB_UNAVAILABLE', // connection exception
  '22': 'ERR_QUERY_INVALID_VALUE', // data exception: a request value that does not fit its column
  '28': 'ERR_DB_UNAVAILABLE', // invalid authorization: server misconfigured
  '53': 'ERR_DB_UNAVAILABLE', // insufficient resources
  '54': 'ERR_QUERY_LIMIT_EXCEEDED', // program limit exceeded: the statement is too large or deep
  '57': 'ERR_DB_UNAVAILABLE', // operator intervention (shutdown, cannot connect now)
  '58': 'ERR_DB_UNAVAILABLE', // system error (I/O)
};

const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'EHOSTDOWN', 'ENETDOWN']);

const LOST_CONNECTION = /connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Knex: Timeout acquiring a connection|Query read timeout|socket hang up|^timeout expired$/i;

/** Maps a pg / pool / socket / knex failure to the code callers see. */
export function classifyDatabaseError(err: unknown): DatabaseErrorCode {
  if (err instanceof EngineError) return (isDatabaseCode(err.code) ? err.code : 'ERR_DB_QUERY_FAILED');
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  // Socket codes first: EPIPE has the shape of a SQLSTATE.
  if (SOCKET_ERRORS.has(code)) return 'ERR_DB_UNAVAILABLE';
  if (/^[0-9A-Z]{5}$/.test(code)) {
    const mapped = BY_SQLSTATE[code] ?? BY_CLASS[code.slice(0, 2)];
    if (mapped) return mapped;
    return 'ERR_DB_QUERY_FAILED';
  }
  if (e?.name === 'KnexTimeoutError' || LOST_CONNECTION.test(message)) return 'ERR_DB_UNAVAILABLE';
  return 'ERR_DB_QUERY_FAILED';
}

/** Whether the connection that saw this error may be reused; a lost or confused one is dropped. */
export function isConnectionFault(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^[0-9A-Z]{5}$/.test(code) && !SOCKET_ERRORS.has(code)) return code.startsWith('08') || code.startsWith('57P');
  return classifyDatabaseError(err) === 'ERR_DB_UNAVAILABLE';
}

function isDatabaseCode(code: ErrorCode): code is DatabaseErrorCode {
  return code in MESSAGES;
}

const MESSAGES: Readonly<Record<DatabaseErrorCode, string>> = {
  ERR_DB_UNAVAILABLE: 'The database is unavailable.',
  ERR_DB_TIMEOUT: 'The database did not answer in time.',
  ERR_DB_QUERY_FAILED: 'The query failed in the database.',
  ERR_QUERY_INVALID_VALUE: 'A value in the query is not valid for its column.',
  ERR_QUERY_LIMIT_EXCEEDED: 'The query is too large or too deeply nested for the database.',
};

/** Seconds a client should wait before retrying while the database is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SEC = 5;

/** Wraps any database failure in an EngineError with a generic message; the cause stays for the log. */
export function toDatabaseError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const code = classifyDatabaseError(err);
  const headers = code === 'ERR_DB_UNAVAILABLE' ? { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SEC) } : undefined;
  return new EngineError(code, MESSAGES[code], { cause: err, ...(headers ? { headers } : {}) });
}

/** The message of a code, for errors raised by the pool itself. */
export const databaseMessage = (code: DatabaseErrorCode): string => MESSAGES[code];
