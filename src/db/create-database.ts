/**
 * The execute stage: a pg pool for queries (timeouts set per connection) and
 * knex for metadata. Failures become EngineErrors with generic messages; the
 * raw database message goes only to the log.
 */
import { createHash } from 'node:crypto';
import knexFactory from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/config.js';
import { EngineError, type ErrorCode } from '../errors/engine-error.js';
import type { CompiledSql, Database, QueryResult } from './database.js';
import { runWithSettings } from './rls/run-with-settings.js';

/** Date and time types come back as PostgreSQL's own text so `shape/` formats them without a JS Date round-trip. */
const RAW_TEXT_TYPE_IDS = new Set<number>([
  1082, // date
  1083, // time
  1114, // timestamp
  1184, // timestamptz
  1266, // timetz
  1186, // interval
  1182, // date[]
  1115, // timestamp[]
  1185, // timestamptz[]
]);

const rawText = (value: string): string => value;

/** Per-query type parsers: pg's defaults (numeric and bigint stay strings) except raw text for date/time. */
export const QUERY_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TEXT_TYPE_IDS.has(oid) && format !== 'binary'
      ? rawText
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);

/** Maps a pg / pool / socket failure to the code callers see. */
export function classifyDatabaseError(err: unknown): ErrorCode {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (code === '57014') return 'ERR_DB_TIMEOUT'; // statement_timeout or cancel
  if (/timeout exceeded when trying to connect/i.test(message)) return 'ERR_DB_TIMEOUT'; // pool acquire
  if (
    code.startsWith('08') || // connection exception
    code.startsWith('53') || // insufficient resources (too many connections, disk full)
    /^57P0\d$/.test(code) || // admin / crash shutdown, cannot connect now
    code.startsWith('28') || // invalid authorization: the server is misconfigured, not the query
    code === '3D000' || // database does not exist
    CONNECTION_ERRORS.has(code) ||
    /connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end/i.test(message)
  ) {
    return 'ERR_DB_UNAVAILABLE';
  }
  return 'ERR_DB_QUERY_FAILED';
}

const MESSAGES: Record<'ERR_DB_UNAVAILABLE' | 'ERR_DB_TIMEOUT' | 'ERR_DB_QUERY_FAILED', string> = {
  ERR_DB_UNAVAILABLE: 'The database is unavailable.',
  ERR_DB_TIMEOUT: 'The database did not answer in time.',
  ERR_DB_QUERY_FAILED: 'The query failed in the database.',
};

/** Wraps any database failure in an EngineError with a generic message; the cause stays for the log. */
export function toDatabaseError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const code = classifyDatabaseError(err) as keyof typeof MESSAGES;
  const sqlstate = (err as { code?: unknown } | null)?.code;
  // Class 22 (data exception: bad number, bad date, overflow) means a value from the request did not fit its column.
  if (code === 'ERR_DB_QUERY_FAILED' && typeof sqlstate === 'string' && sqlstate.startsWith('22')) {
    return new EngineError(code, 'A value in the query is not valid for its column.', { cause: err, status: 400 });
  }
  return new EngineError(code, MESSAGES[code], { cause: err });
}

const statementNames = new Map<string, string>();

/** A stable name per SQL text for server-side prepared statements (bounded, so ad-hoc SQL cannot grow it forever). */
function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined) {
    if (statementNames.size >= 1000) return undefined;
    name = `tessera_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** Opens the pool and knex; nothing connects until the first query. */
export function createDatabase(cfg: DatabaseConfig & { url: string }, logger: Logger): Database {
  const log = logger.child({ component: 'db' });
  const pool = new pg.Pool({
    connectionString: cfg.url,
    max: cfg.poolMax,
    connectionTimeoutMillis: cfg.connectionTimeoutMs,
    statement_timeout: cfg.statementTimeoutMs,
    application_name: 'tessera',
    // A fixed session time zone makes the raw timestamptz text independent of the server's default.
    options: '-c TimeZone=UTC',
    // Connections are recycled now and then, which also bounds the prepared statements each one keeps.
    maxUses: 5000,
  });
  // An idle client that loses its connection emits here; without a listener the process would crash.
  pool.on('error', (err) => log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database connection failed'));

  const knex = knexFactory({
    client: 'pg',
    connection: {
      connectionString: cfg.url,
      application_name: 'tessera-meta',
      connectionTimeoutMillis: cfg.connectionTimeoutMs,
      statement_timeout: cfg.statementTimeoutMs,
    } as unknown as string,
    pool: { min: 0, max: Math.max(2, Math.min(5, cfg.poolMax)) },
    acquireConnectionTimeout: cfg.connectionTimeoutMs,
  });

  let closed: Promise<void> | undefined;

  return {
    knex,
    async query(compiled: CompiledSql): Promise<QueryResult> {
      try {
        // A named statement is parsed and planned once per connection, then only bound and executed.
        const request = { name: statementName(compiled.sql), text: compiled.sql, values: compiled.params as unknown[], types: QUERY_TYPES };
        const result = compiled.settings ? await runWithSettings(pool, request, compiled.settings) : await pool.query(request);
        return {
          rows: result.rows,
          fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
        };
      } catch (err) {
        const mapped = toDatabaseError(err);
        // The SQL text is safe to log (values are parameters); the params are not logged.
        log.error(
          { err: describe(err), code: mapped.code, sql: compiled.sql, paramCount: compiled.params.length },
          'database query failed',
        );
        throw mapped;
      }
    },
    async ping(): Promise<void> {
      try {
        await pool.query('select 1');
      } catch (err) {
        log.warn({ err: describe(err) }, 'database ping failed');
        throw new EngineError('ERR_DB_UNAVAILABLE', MESSAGES.ERR_DB_UNAVAILABLE, { cause: err });
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close(): Promise<void> {
      closed ??= Promise.all([pool.end(), knex.destroy()]).then(() => undefined);
      return closed;
    },
  };
}

function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: string; detail?: string; position?: string };
  return { type: e.name, message: e.message, code: e.code, detail: e.detail, position: e.position };
}
