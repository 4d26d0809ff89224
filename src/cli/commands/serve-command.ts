/**
 * `tessera serve`: config → database (embedded demo only outside production) →
 * model → row-level security checks → app → listen, and a graceful stop on SIGTERM/SIGINT.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import { createDatabase } from '../../db/create-database.js';
import { seedDemo } from '../../db/seed.js';
import { checkRowLevelSecurity } from '../../db/rls/check-row-level-security.js';
import { closeApp, createApp } from '../../server/create-app.js';
import { createAppDeps } from '../../server/create-app-deps.js';
import { createLogger } from '../../server/create-logger.js';
import { startHttpServer, type RunningServer } from '../../server/start-http-server.js';
import { watchModel, type ModelWatcher } from '../../schema/watch-model.js';
import type { AppDeps } from '../../server/app-deps.js';
import { defineCommand, UsageError, writeErr } from '../cli-command.js';
import { DEMO_TENANT_ID, DEMO_USER_ID, loadCliConfig, resolveDatabase } from '../open-database.js';
import { StartupError } from '../startup-error.js';

export const SERVE_HELP = `Usage: tessera serve [options]

Starts the HTTP server. Without DATABASE_URL (and outside production) it starts an
embedded PostgreSQL in .tessera/pgdata and seeds the demo dataset.

Options:
  -p, --port <port>   Port to listen on (PORT, default 4000; 0 picks a free one).
      --host <host>   Address to bind (HOST; default 127.0.0.1 in dev mode, else 0.0.0.0).
  -m, --model <dir>   Model folder (CUBEJS_SCHEMA_PATH, default ./schema).
  -h, --help          Show this help.
  -v, --version       Print the version.`;

/** The demo model shipped with the package, used when the working folder has none. */
const PACKAGED_DEMO_MODEL = fileURLToPath(new URL('../../../schema', import.meta.url));

const LOOPBACK = (host: string): boolean => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

export const serveCommand = defineCommand(
  'serve',
  SERVE_HELP,
  { port: { type: 'string', short: 'p' }, host: { type: 'string' }, model: { type: 'string', short: 'm' } },
  async (values) => {
    const overrides: Record<string, string | undefined> = {};
    if (typeof values.port === 'string') {
      if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new UsageError(`--port must be a port number, not ${JSON.stringify(values.port)}`);
      overrides.PORT = values.port;
    }
    if (typeof values.host === 'string') overrides.HOST = values.host;
    if (typeof values.model === 'string') overrides.CUBEJS_SCHEMA_PATH = values.model;
    return serve(overrides);
  },
);

async function serve(overrides: Record<string, string | undefined>): Promise<number> {
  let config = await loadCliConfig(overrides);
  const logger = createLogger({ level: config.logLevel, pretty: !config.production });
  if (config.devMode && !LOOPBACK(config.host)) {
    writeErr(`tessera: warning: dev mode answers requests without a token, and it is listening on ${config.host}, which is not a loopback address.`);
  }
  const { url, embedded } = await resolveDatabase(config, logger);
  // With the embedded demo and no model folder here, the demo model shipped with Tessera is served.
  if (embedded && overrides.CUBEJS_SCHEMA_PATH === undefined && !existsSync(config.schemaPath) && existsSync(PACKAGED_DEMO_MODEL)) {
    config = Object.freeze({ ...config, schemaPath: PACKAGED_DEMO_MODEL });
  }
  const db = createDatabase({ ...config.database, url }, logger);
  let app: ReturnType<typeof createApp> | undefined;
  let watcher: ModelWatcher | undefined;
  const close = async (): Promise<void> => {
    watcher?.close();
    // Limiter counts and audit records of the last requests are written before the database (their sink, perhaps) closes.
    await closeApp(app);
    await db.close();
    await embedded?.stop();
  };
  let running: RunningServer;
  try {
    // Listens at once (so /livez answers), builds the app once the database answers, drains on SIGTERM.
    running = await startHttpServer({
      config,
      logger,
      prepare: async () => {
        if (embedded || config.seedOnStart) {
          const result = await seedDemo(db);
          logger.info({ seeded: result.seeded, ms: result.ms }, result.seeded ? 'demo dataset seeded' : 'demo dataset already present');
        }
        const deps = await createAppDeps({ config, db, logger });
        await enforceRowLevelSecurity(deps, logger);
        app = createApp(deps);
        // Outside production a model edit that compiles replaces the app; a broken one is logged and the last good model keeps serving.
        if (!config.production) {
          watcher = watchModel(config.schemaPath, {
            currentVersion: deps.model.version,
            // New deps (a fresh model provider and result cache), so per-context models and cache keys follow the new files.
            onReload: () => {
              createAppDeps({ config, db, logger }).then(
                (next) => {
                  const previous = app;
                  app = createApp(next);
                  void closeApp(previous);
                  logger.info({ version: next.model.version }, 'model reloaded');
                },
                (err: unknown) => logger.error({ err }, 'model not reloaded; the last good model keeps serving'),
              );
            },
            onError: (errors) => logger.error({ errors: errors.map((e) => e.message) }, 'model not reloaded; the last good model keeps serving'),
          });
        }
        return (req, res) => (app as ReturnType<typeof createApp>)(req, res);
      },
      onReady: (port) => {
        logger.info({ port, embedded: embedded !== undefined, rowLevelSecurity: config.database.rowLevelSecurity === true }, 'tessera ready');
        process.stdout.write(banner(config, port, embedded !== undefined));
      },
      close,
    });
  } catch (err) {
    await close();
    throw listenError(err, config);
  }
  return running.done;
}

/** A listen failure a user can fix, as one line naming the port or address. */
function listenError(err: unknown, config: Config): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return new StartupError(`port ${config.port} is already in use on ${config.host}; stop the other process or pass --port`);
  if (code === 'EACCES') return new StartupError(`port ${config.port} on ${config.host} needs privileges this process does not have; pick a port above 1023`);
  if (code === 'EADDRNOTAVAIL') return new StartupError(`address ${config.host} is not available on this machine (port ${config.port})`);
  return err;
}

/** Production refuses to start on a failed check (one line naming the role or table); dev warns. */
async function enforceRowLevelSecurity(deps: AppDeps, logger: Logger): Promise<void> {
  const { config } = deps;
  if (!config.database.rowLevelSecurity) return;
  const role = config.database.rlsRole ?? 'tessera_query';
  const problems = await checkRowLevelSecurity(deps.db.knex, deps.model, role);
  if (problems.length === 0) {
    logger.info({ role }, 'row-level security checks passed');
    return;
  }
  if (config.production) throw new StartupError(`row-level security: ${problems[0]!.message}; refusing to start (NODE_ENV=production)`);
  for (const p of problems) {
    logger.warn({ subject: p.subject }, `row-level security: ${p.message}`);
    writeErr(`tessera: warning: row-level security: ${p.message}`);
  }
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
      config.security?.devSecurityContext === undefined
        ? 'Dev mode is on (no CUBEJS_API_SECRET set): requests without a token get an empty security context, so cubes filtered by missing claims answer 403.'
        : 'Dev mode is on (no CUBEJS_API_SECRET set): requests without a token get devSecurityContext.',
      `  ${curl('')}`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}
