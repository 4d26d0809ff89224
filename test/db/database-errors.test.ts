import { describe, expect, it } from 'vitest';
import { classifyDatabaseError, isConnectionFault, toDatabaseError } from '../../src/db/database-errors.js';

const pgError = (code: string, message = 'raw driver text') => Object.assign(new Error(message), { code });

describe('classifyDatabaseError', () => {
  it.each([
    ['57014', 'ERR_DB_TIMEOUT'],
    ['08006', 'ERR_DB_UNAVAILABLE'],
    ['08P01', 'ERR_DB_UNAVAILABLE'],
    ['53300', 'ERR_DB_UNAVAILABLE'],
    ['57P01', 'ERR_DB_UNAVAILABLE'],
    ['57P03', 'ERR_DB_UNAVAILABLE'],
    ['28P01', 'ERR_DB_UNAVAILABLE'],
    ['3D000', 'ERR_DB_UNAVAILABLE'],
    ['40001', 'ERR_DB_UNAVAILABLE'],
    ['40P01', 'ERR_DB_UNAVAILABLE'],
    ['58030', 'ERR_DB_UNAVAILABLE'],
    ['22P02', 'ERR_QUERY_INVALID_VALUE'],
    ['22003', 'ERR_QUERY_INVALID_VALUE'],
    ['22007', 'ERR_QUERY_INVALID_VALUE'],
    ['2201B', 'ERR_QUERY_INVALID_VALUE'],
    ['54001', 'ERR_QUERY_LIMIT_EXCEEDED'],
    ['42703', 'ERR_DB_QUERY_FAILED'],
    ['42P01', 'ERR_DB_QUERY_FAILED'],
    ['XX000', 'ERR_DB_QUERY_FAILED'],
  ])('maps SQLSTATE %s to %s', (sqlstate, code) => {
    expect(classifyDatabaseError(pgError(sqlstate))).toBe(code);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'])('maps the socket error %s to ERR_DB_UNAVAILABLE', (code) => {
    expect(classifyDatabaseError(pgError(code))).toBe('ERR_DB_UNAVAILABLE');
  });

  it.each([
    'timeout exceeded when trying to connect',
    'Connection terminated unexpectedly',
    'Query read timeout',
    // pg's connectionTimeoutMillis destroys the socket with this.
    'timeout expired',
    'Knex: Timeout acquiring a connection. The pool is probably full.',
  ])('maps the pool or driver failure "%s" to ERR_DB_UNAVAILABLE', (message) => {
    expect(classifyDatabaseError(new Error(message))).toBe('ERR_DB_UNAVAILABLE');
  });

  it('treats anything it does not know as a failed query', () => {
    expect(classifyDatabaseError(new TypeError('x is undefined'))).toBe('ERR_DB_QUERY_FAILED');
    expect(classifyDatabaseError(undefined)).toBe('ERR_DB_QUERY_FAILED');
  });
});

describe('toDatabaseError', () => {
  it('gives 503s a Retry-After and never the driver text', () => {
    const err = toDatabaseError(pgError('57P03', 'the database system is starting up'));
    expect(err.code).toBe('ERR_DB_UNAVAILABLE');
    expect(err.headers).toEqual({ 'Retry-After': '5' });
    expect(err.message).toBe('The database is unavailable.');
  });

  it('keeps the raw error as the cause, for the log', () => {
    const raw = pgError('22P02');
    expect(toDatabaseError(raw).cause).toBe(raw);
  });
});

describe('isConnectionFault', () => {
  it('drops a connection after a connection exception, a shutdown or a socket error, and keeps it after a query error', () => {
    expect(isConnectionFault(pgError('08006'))).toBe(true);
    expect(isConnectionFault(pgError('57P01'))).toBe(true);
    expect(isConnectionFault(pgError('ECONNRESET'))).toBe(true);
    expect(isConnectionFault(pgError('57014'))).toBe(false);
    expect(isConnectionFault(pgError('22P02'))).toBe(false);
    expect(isConnectionFault(pgError('53300'))).toBe(false);
  });
});
