/**
 * The execute stage: a pg pool for queries and knex for metadata.
 *
 * Connections heal: TCP keepalive, a client-side timeout longer than the
 * statement timeout, and any connection that saw a network fault is dropped,
 * not reused. A statement whose request is aborted is cancelled in PostgreSQL
 * (CancelRequest). Slots are handed out fairly per security context. Failures
 * become EngineErrors with generic messages; the raw message goes only to the log.
 *
 * Statements are unnamed (parsed per execution): at most 1.2× a named one on a
 * cheap query and the same on a heavy one (bench/prepared-statements.ts), they
 * keep backend memory flat whatever SQL texts come, and they work behind
 * PgBouncer in transaction pooling mode.
 */
import knexFactory from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/config.js';
import { EngineError } from '../errors/engine-error.js';
import type { CompiledSql, Database, QueryResult } from './database.js';
import { databaseMessage, isConnectionFault, toDatabaseError, UNAVAILABLE_RETRY_AFTER_SEC } from './database-errors.js';
import { createFairQueue, defaultTenantConcurrency } from './fair-queue.js';
import { sendCancelRequest } from './send-cancel-request.js';
import type { StatementScope } from './statement-scope.js';

export { classifyDatabaseError, toDatabaseError } from './database-errors.js';
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

/** The wire protocol counts bind parameters in 16 bits. */
const PROTOCOL_MAX_PARAMS = 65_535;
/** `/readyz` must answer within a second, so the ping gives up before that. */
const PING_TIMEOUT_MS = 800;
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/** A pg client with the fields the cancel request needs (set once connected). */
interface CancellableClient extends pg.PoolClient {
  readonly processID?: number;
  readonly secretKey?: number;
  readonly host: string;
  readonly port: number;
}

/** Opens the pool and knex; nothing connects until the first query. */
export function createDatabase(cfg: DatabaseConfig & { url: string }, logger: Logger): Database {
  const log = logger.child({ component: 'db' });
  const clientTimeoutMs = cfg.clientTimeoutMs ?? (cfg.statementTimeoutMs > 0 ? cfg.statementTimeoutMs + 5000 : 0);
  const pooled = cfg.transactionPooling === true;
  const statementTimeoutMs = Math.max(0, Math.trunc(cfg.statementTimeoutMs));
  const connection = {
    connectionString: cfg.url,
    connectionTimeoutMillis: cfg.connectionTimeoutMs,
    // Keepalive notices a peer that vanished without a FIN (a partition) on idle connections too.
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    // A fixed session time zone makes the raw timestamptz text independent of the server's default.
    // PgBouncer refuses these startup parameters, and in transaction mode a session setting would not stick anyway.
    ...(pooled ? {} : { statement_timeout: statementTimeoutMs, options: '-c TimeZone=UTC' }),
  };
  /** The same settings, transaction-local, for each statement behind a transaction pooler. */
  const localSettings = `BEGIN; SET LOCAL statement_timeout = ${statementTimeoutMs}; SET LOCAL TimeZone = 'UTC'`;
  const pool = new pg.Pool({ ...connection, application_name: 'tessera', max: cfg.poolMax, idleTimeoutMillis: 30_000 });
  // An idle client that loses its connection emits here; without a listener the process would crash.
  pool.on('error', (err) => log.warn({ err: describe(err) }, 'idle database connection failed'));
  const slots = createFairQueue({
    slots: cfg.poolMax,
    perKey: Math.min(cfg.poolMax, cfg.tenantConcurrency ?? defaultTenantConcurrency(cfg.poolMax)),
    queueDepth: cfg.queueDepth ?? 100,
    waitTimeoutMs: cfg.connectionTimeoutMs,
  });

  // Open metadata connections, so closing can drop one whose statement will never be answered.
  const metaConnections = new Set<pg.Client>();
  const knex = knexFactory({
    client: 'pg',
    // pg's own read timeout: knex then finds the connection not ready and replaces it, so a partition cannot freeze it.
    connection: { ...connection, application_name: 'tessera-meta', ...(clientTimeoutMs > 0 ? { query_timeout: clientTimeoutMs } : {}) } as unknown as string,
    pool: {
      min: 0,
      max: Math.max(2, Math.min(5, cfg.poolMax)),
      afterCreate: (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) => {
        metaConnections.add(conn);
        conn.once('end', () => metaConnections.delete(conn));
        done(null, conn);
      },
    },
    acquireConnectionTimeout: cfg.connectionTimeoutMs,
    // knex would print its own multi-line warnings (stack traces included) to the console; they go to the log as one line.
    log: {
      warn: (message: unknown) => log.warn({ knex: oneLine(message) }, 'knex warning'),
      error: (message: unknown) => log.warn({ knex: oneLine(message) }, 'knex error'),
      deprecate: (method: unknown, alternative: unknown) => log.debug({ method, alternative }, 'knex deprecation'),
      debug: () => undefined,
    },
  });

  // Checked-out connections, so closing can drop the ones an abandoned statement still holds.
  const checkedOut = new Set<CancellableClient>();

  /** Drops a connection for good: the pool forgets it and its socket is destroyed at once. */
  const evict = (client: CancellableClient, reason: Error): void => {
    client.release(reason);
    client.connection.stream.destroy();
  };

  /** The one place a statement runs; session settings (RLS role, claims) belong here, around it. */
  const runStatement = (client: pg.PoolClient, compiled: CompiledSql): Promise<pg.QueryResult> => {
    const statement = { text: compiled.sql, values: compiled.params as unknown[], types: QUERY_TYPES };
    if (!pooled && !compiled.settings) return client.query(statement);
    return runWithSettings(client, statement, compiled.settings, pooled ? localSettings : 'BEGIN');
  };

  /** Runs on a pooled connection; settles early on abort or client timeout, and returns the slot once the connection is free. */
  const execute = async (compiled: CompiledSql, signal: AbortSignal | undefined, releaseSlot: () => void): Promise<QueryResult> => {
    let client: CancellableClient;
    try {
      client = (await withAbort(pool.connect(), signal, (late) => late.release())) as CancellableClient;
    } catch (err) {
      releaseSlot();
      throw err;
    }
    checkedOut.add(client);
    // A checked-out client has no pool listener; an unheard 'error' would crash the process (the query rejects anyway).
    const onClientError = (err: Error): void => log.warn({ err: describe(err) }, 'database connection failed during a statement');
    client.on('error', onClientError);
    return new Promise<QueryResult>((resolve, reject) => {
      let settled = false;
      let freed = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        fn();
      };
      const free = (fault?: Error): void => {
        if (freed) return;
        freed = true;
        checkedOut.delete(client);
        client.off('error', onClientError);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (fault) evict(client, fault);
        else client.release();
        releaseSlot();
      };
      const onAbort = (): void => {
        settle(() => reject(signal?.reason));
        // The connection is freed when PostgreSQL answers the cancelled statement (or the client timeout drops it).
        const { processID, secretKey } = client;
        if (processID !== undefined && secretKey !== undefined) {
          void sendCancelRequest({ host: client.host, port: client.port, processID, secretKey });
        }
      };
      const timer = clientTimeoutMs > 0
        ? setTimeout(() => {
            const fault = new Error(`no answer from the database within the client timeout of ${clientTimeoutMs} ms`);
            settle(() => reject(unavailable(fault)));
            free(fault);
          }, clientTimeoutMs)
        : undefined;
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      runStatement(client, compiled).then(
        (result) => {
          free();
          settle(() => resolve({ rows: result.rows, fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) }));
        },
        (err: unknown) => {
          free(isConnectionFault(err) ? (err as Error) : undefined);
          settle(() => reject(err));
        },
      );
    });
  };

  const fail = (err: unknown, compiled: CompiledSql): EngineError => {
    const mapped = toDatabaseError(err);
    const level = mapped.code === 'ERR_DB_QUERY_FAILED' ? 'error' : 'warn';
    // The SQL text is safe to log (values are parameters); the params are not logged.
    log[level]({ err: describe(err), code: mapped.code, sql: compiled.sql, paramCount: compiled.params.length }, 'database query failed');
    return mapped;
  };

  // One dedicated connection answers readiness, so a full pool never makes the process look dead.
  let pingClient: pg.Client | undefined;
  let pingInFlight: Promise<void> | undefined;
  const dropPingClient = (): void => {
    const c = pingClient;
    pingClient = undefined;
    c?.connection.stream.destroy();
    void c?.end().catch(() => undefined);
  };
  const pingOnce = async (): Promise<void> => {
    if (!pingClient) {
      const c = new pg.Client({ ...connection, application_name: 'tessera-ping', connectionTimeoutMillis: PING_TIMEOUT_MS });
      c.on('error', () => {
        if (pingClient === c) pingClient = undefined;
      });
      pingClient = c;
      await c.connect();
    }
    await pingClient.query('select 1');
  };

  /** knex waits for its busy connections; after a moment they are dropped, since nobody waits for their answer. */
  const closeKnex = async (): Promise<void> => {
    const destroyed = knex.destroy();
    const settledSoon = await Promise.race([destroyed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref())]);
    if (settledSoon) return;
    for (const conn of metaConnections) conn.connection.stream.destroy();
    await destroyed;
  };

  let closed: Promise<void> | undefined;

  return {
    knex,
    async query(compiled: CompiledSql, opts?: StatementScope): Promise<QueryResult> {
      if (compiled.params.length > PROTOCOL_MAX_PARAMS) {
        throw new EngineError('ERR_QUERY_LIMIT_EXCEEDED', `The query needs more than ${PROTOCOL_MAX_PARAMS} bound parameters; use fewer filter values.`);
      }
      const scope: StatementScope = opts ?? {};
      let releaseSlot: () => void;
      try {
        releaseSlot = await slots.acquire(scope.tenantKey ?? '', scope.signal);
        return await execute(compiled, scope.signal, releaseSlot);
      } catch (err) {
        // The caller's own abort reason comes back as it was given: nothing failed in the database.
        if (scope.signal?.aborted && err === scope.signal.reason) {
          log.info({ sql: compiled.sql }, 'statement cancelled: its request was aborted');
          throw err;
        }
        throw fail(err, compiled);
      }
    },
    ping(): Promise<void> {
      pingInFlight ??= withTimeout(pingOnce(), PING_TIMEOUT_MS)
        .catch((err: unknown) => {
          dropPingClient();
          log.warn({ err: describe(err) }, 'database ping failed');
          throw unavailable(err);
        })
        .finally(() => {
          pingInFlight = undefined;
        });
      return pingInFlight;
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close(): Promise<void> {
      // By now every request has finished or been cut; a statement still running has nobody to answer.
      for (const client of checkedOut) client.connection.stream.destroy();
      closed ??= Promise.all([pool.end(), closeKnex(), pingClient?.end().catch(() => undefined)]).then(() => undefined);
      return closed;
    },
  };
}

function unavailable(cause: unknown): EngineError {
  return new EngineError('ERR_DB_UNAVAILABLE', databaseMessage('ERR_DB_UNAVAILABLE'), {
    cause,
    headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SEC) },
  });
}

/** Rejects as soon as `signal` aborts; a value that arrives later goes to `onLate` (e.g. to release a connection). */
function withAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onLate: (value: T) => void): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) onLate(value);
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** The first line of a message or error, without its stack. */
function oneLine(message: unknown): string {
  const text = message instanceof Error ? message.message : String(message);
  return text.split('\n')[0] ?? '';
}

function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: string; detail?: string; position?: string };
  return { type: e.name, message: e.message, code: e.code, detail: e.detail, position: e.position };
}
