/**
 * The CLI's database: DATABASE_URL, or (outside production only) an embedded
 * PostgreSQL in the data dir, seeded with the demo. Also the dev secret that
 * `serve` writes and `token` reads.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load-config.js';
import { createDatabase } from '../db/create-database.js';
import type { Database } from '../db/database.js';
import type { EmbeddedPostgres } from '../db/embedded-postgres.js';
import { seedDemo } from '../db/seed.js';
import { StartupError } from './startup-error.js';

const dataDirOf = (config: Config): string => config.dataDir ?? path.resolve('.tessera');
const devSecretFile = (config: Config): string => path.join(dataDirOf(config), 'dev-secret');

/** The environment with command-line overrides applied (an override replaces every alias of its variable). */
export function envWith(overrides: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  if ('CUBEJS_SCHEMA_PATH' in overrides) delete env.TESSERA_SCHEMA_PATH;
  return { ...env, ...overrides };
}

/** The demo user the printed token speaks for; tenant = ((id - 1) % 5) + 1. */
export const DEMO_USER_ID = 42;
export const DEMO_TENANT_ID = ((DEMO_USER_ID - 1) % 5) + 1;
/** What a tokenless dev-mode request of the demo speaks for (issue 12): the printed token's user. */
const DEMO_DEV_CONTEXT = Object.freeze({ sub: `user-${DEMO_USER_ID}`, u: Object.freeze({ id: DEMO_USER_ID }), tenant_id: DEMO_TENANT_ID });

/**
 * Loads config; outside production with no database and no secret (the demo), a dev secret kept in the
 * data dir signs the printed token, and tokenless requests get the demo user's context unless one is configured.
 */
export async function loadCliConfig(overrides: Readonly<Record<string, string | undefined>> = {}): Promise<Config> {
  const env = envWith(overrides);
  const first = await loadConfig({ env });
  if (first.database.url || first.production || first.apiSecrets.length > 0) return first;
  return loadConfig({ env, devSecret: readOrCreateDevSecret(devSecretFile(first)), devSecurityContext: DEMO_DEV_CONTEXT });
}

/** The dev secret `serve` wrote for the embedded demo, if any (never in production). */
export function existingDevSecret(config: Config): string | undefined {
  if (config.production || config.database.url) return undefined;
  const file = devSecretFile(config);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

function readOrCreateDevSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The configured database URL, or an embedded PostgreSQL started for this process (never in production). */
export async function resolveDatabase(config: Config, logger: Logger): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (config.database.url) return { url: config.database.url };
  if (config.production) {
    throw new StartupError('NODE_ENV=production needs DATABASE_URL (or CUBEJS_DB_HOST); the embedded demo database never starts in production');
  }
  const { startEmbeddedPostgres } = await import('../db/embedded-postgres.js');
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDirOf(config), 'pgdata'), logger });
  return { url: embedded.url, embedded };
}

/** An open database: the configured one, or the embedded one (seeded). */
export async function openDatabase(config: Config, logger: Logger): Promise<{ db: Database; embedded?: EmbeddedPostgres }> {
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
