/**
 * `tessera serve | seed | token`. Serve: config → database (embedded when no
 * DATABASE_URL, seeded) → model → authenticator → app → listen, and a
 * graceful stop on SIGTERM/SIGINT.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load-config.js';
import { createDatabase } from '../db/create-database.js';
import type { Database } from '../db/database.js';
import type { EmbeddedPostgres } from '../db/embedded-postgres.js';
import { seedDemo } from '../db/seed.js';
import { ConfigError, ModelError } from '../errors/engine-error.js';
import { createApp } from '../server/create-app.js';
import { createAppDeps } from '../server/create-app-deps.js';
import { createLogger } from '../server/create-logger.js';
import { createModelProvider } from '../schema/model-provider.js';
import { watchModel } from '../schema/watch-model.js';

const HELP = `Usage: tessera <command> [options]

Commands:
  serve            Start the HTTP server (default). Without DATABASE_URL it starts an
                   embedded PostgreSQL in .tessera/pgdata and seeds the demo dataset.
  seed [--force]   Create and fill the demo tables in DATABASE_URL (or the embedded
                   database). --force drops and recreates them.
  token [options]  Print a signed HS256 token (see: tessera token --help).
  validate [dir]   Load the model folder without a database and print every error.
  help             Show this help.

Configuration is read from the environment and tessera.config.{js,mjs,ts} (see README).`;

/** The demo user the printed token speaks for; tenant = ((id - 1) % 5) + 1. */
const DEMO_USER_ID = 42;
const DEMO_TENANT_ID = ((DEMO_USER_ID - 1) % 5) + 1;
/** How long in-flight requests get to finish after SIGTERM before sockets are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(argv: readonly string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case 'seed':
      return seed(rest);
    case 'token': {
      // Loaded on demand: the token command needs neither the server nor the database.
      const { runTokenCommand } = await import('./token-command.js');
      return runTokenCommand(rest, process.env, {
        stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
        stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
      });
    }
    case 'validate': {
      const { runValidateCommand } = await import('./validate-command.js');
      return runValidateCommand(rest, {
        stdout: (text) => process.stdout.write(`${text}\n`),
        stderr: (text) => process.stderr.write(`${text}\n`),
        defaultDir: async () => (await loadConfig()).schemaPath,
      });
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return 0;
    default:
      process.stderr.write(`tessera: unknown command "${command}"\n\n${HELP}\n`);
      return 2;
  }
}

/** Loads config; outside production with no database and no secret, a dev secret kept in the data dir signs the printed token. */
async function loadServeConfig(): Promise<Config> {
  const first = await loadConfig();
  if (first.database.url || first.production || first.apiSecrets.length > 0) return first;
  const devSecret = readOrCreateDevSecret(dataDirOf(first));
  return loadConfig({ devSecret });
}

const dataDirOf = (config: Config): string => config.dataDir ?? path.resolve('.tessera');

function readOrCreateDevSecret(dataDir: string): string {
  const file = path.join(dataDir, 'dev-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The configured database URL, or an embedded PostgreSQL started for this process. */
async function resolveDatabase(config: Config, logger: Logger): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (config.database.url) return { url: config.database.url };
  const { startEmbeddedPostgres } = await import('../db/embedded-postgres.js');
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDirOf(config), 'pgdata'), logger });
  return { url: embedded.url, embedded };
}

/** An open database: the configured one, or the embedded one (seeded). */
async function openDatabase(config: Config, logger: Logger): Promise<{ db: Database; embedded?: EmbeddedPostgres }> {
  const { url, embedded } = await resolveDatabase(config, logger);
  const db = createDatabase({ ...config.database, url }, logger);
  try {
    if (embedded || config.seedOnStart) {
      const result = await seedDemo(db);
      logger.info({ seeded: result.seeded, ms: result.ms }, result.seeded ? 'demo dataset seeded' : 'demo dataset already present');
    }
  } catch (err) {
    await db.close();
    await embedded?.stop();
    throw err;
  }
  return embedded ? { db, embedded } : { db };
}

async function serve(): Promise<number> {
  const config = await loadServeConfig();
  const logger = createLogger({ level: config.logLevel });
  const { db, embedded } = await openDatabase(config, logger);
  let server: Server;
  try {
    const deps = await createAppDeps({ config, db, logger });
    let app = createApp(deps);
    // Outside production a model edit that compiles replaces the app; a broken one is logged and the last good model keeps serving.
    if (!config.production) {
      watchModel(config.schemaPath, {
        currentVersion: deps.model.version,
        // A fresh provider, so that models compiled per COMPILE_CONTEXT are rebuilt too.
        onReload: () => {
          createModelProvider(config.schemaPath, { contextToAppId: config.hooks.contextToAppId })
            .then((models) => {
              app = createApp(Object.freeze({ ...deps, model: models.base, modelFor: models.perContext ? models.modelFor : undefined }));
              logger.info({ version: models.base.version }, 'model reloaded');
            })
            .catch((err: unknown) => logger.error({ err }, 'model not reloaded; the last good model keeps serving'));
        },
        onError: (errors) => logger.error({ errors: errors.map((e) => e.message) }, 'model not reloaded; the last good model keeps serving'),
      });
    }
    server = await new Promise<Server>((resolve, reject) => {
      const s = createServer((req, res) => app(req, res)).listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
  } catch (err) {
    await db.close();
    await embedded?.stop();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ host: config.host, port, devMode: config.devMode, embedded: embedded !== undefined }, 'tessera listening');
  process.stdout.write(banner(config, port, embedded !== undefined));
  installShutdown(server, db, embedded, logger);
  return new Promise<number>(() => undefined); // runs until a signal
}

function banner(config: Config, port: number, embedded: boolean): string {
  const host = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(config.host) ? 'localhost' : config.host;
  const base = `http://${host}:${port}`;
  const curl = (auth: string) =>
    `curl ${auth}-G --data-urlencode 'query={"measures":["Orders.count"]}' ${base}/cubejs-api/v1/load`;
  const lines = ['', `Tessera is listening on ${base}`];
  if (embedded) lines.push('Database: embedded PostgreSQL with the demo dataset (no DATABASE_URL set).');
  const secret = config.apiSecrets[0];
  // A long-lived token signed with a production secret must never land in a log.
  if (secret && !config.production) {
    const token = jwt.sign({ sub: `user-${DEMO_USER_ID}`, u: { id: DEMO_USER_ID }, tenant_id: DEMO_TENANT_ID }, secret, {
      algorithm: 'HS256',
      expiresIn: '30d',
    });
    lines.push(`Dev token for demo user ${DEMO_USER_ID} (tenant ${DEMO_TENANT_ID}), valid 30 days:`, `  ${token}`, 'Try:', `  ${curl(`-H "Authorization: ${token}" `)}`);
  }
  if (config.devMode) {
    lines.push(
      'Dev mode is on (no CUBEJS_API_SECRET set): requests without a token are answered with an empty security context.',
      `  ${curl('')}`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}

function installShutdown(server: Server, db: Database, embedded: EmbeddedPostgres | undefined, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    // Ctrl+C reaches us twice (from the terminal and relayed by tsx/npm), so repeats are ignored.
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      logger.warn('in-flight requests did not finish in time; closing their connections');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
    setTimeout(() => {
      logger.error('shutdown did not complete; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS + 5000).unref();
    server.close(async () => {
      try {
        await db.close();
        await embedded?.stop();
        logger.info('stopped');
        process.exit(0);
      } catch (err) {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      }
    });
    // Keep-alive connections with no request in flight would hold server.close open.
    server.closeIdleConnections();
    // Logged once the listener is closed, so anyone reading it can rely on new connections being refused.
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function seed(args: readonly string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--force');
  if (unknown.length > 0) {
    process.stderr.write(`tessera seed: unknown option ${unknown[0]}\n`);
    return 2;
  }
  const config = await loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const { url, embedded } = await resolveDatabase(config, logger);
  try {
    const result = await seedDemo(url, { force: args.includes('--force') });
    process.stdout.write(result.seeded ? `Demo dataset seeded in ${result.ms} ms.\n` : 'Demo dataset already present (use --force to recreate it).\n');
    return 0;
  } finally {
    await embedded?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Start-up problems a user can fix get one clear line, not a stack trace.
    if (err instanceof ConfigError || err instanceof ModelError || (err instanceof Error && err.name === 'SeedRefusedError')) {
      process.stderr.write(`tessera: ${err.message}\n`);
    } else {
      process.stderr.write(`tessera: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  },
);
