/**
 * A real Tessera app for supertest: real config (through loadConfig), real
 * PostgreSQL (seeded once by global-setup), real model and authenticator.
 *
 *   const t = await createTestApp({ env: { CUBEJS_DEV_MODE: 'true' } });
 *   await request(t.app).get('/cubejs-api/v1/load').set('Authorization', userToken(42))...
 *   await t.close();
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createDatabase } from '../../src/db/create-database.js';
import type { AppDeps } from '../../src/server/app-deps.js';
import { closeApp, createApp } from '../../src/server/create-app.js';
import { createAppDeps } from '../../src/server/create-app-deps.js';
import { createLogger } from '../../src/server/create-logger.js';
import { TEST_SECRET } from './tokens.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_SCHEMA_PATH = path.join(REPO_ROOT, 'schema');

/** The database URL from global-setup (seeded with the demo dataset). */
export function testDatabaseUrl(): string {
  return inject('databaseUrl');
}

/**
 * The environment every test app starts from. Keys you pass in `env` override it;
 * a key set to `undefined` removes it (e.g. `{ CUBEJS_API_SECRET: undefined }` for dev mode).
 */
export function baseTestEnv(): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    CUBEJS_API_SECRET: TEST_SECRET,
    CUBEJS_SCHEMA_PATH: DEMO_SCHEMA_PATH,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TESSERA_DB_POOL_MAX: '4',
    // Tests fire many requests per subject; the limiter's own tests lower this.
    TESSERA_QUERY_RATE_LIMIT: '1000000',
    TESSERA_ANONYMOUS_RATE_LIMIT: '1000000',
  };
}

export interface TestAppOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A config file: a path, or `{ name, source }` written to a fresh dir under `.tessera/test-configs/`
   * (e.g. `{ name: 'tessera.config.mjs', source: 'export default { ... }' }`).
   */
  readonly configFile?: string | { readonly name: string; readonly source: string };
  /** Model folder; defaults to the demo `schema/`. */
  readonly schemaPath?: string;
  /** Working directory for config lookup; defaults to an empty temp dir. */
  readonly cwd?: string;
  /** Receives the logger's JSON lines (e.g. to assert what is logged). */
  readonly logDestination?: { write(line: string): void };
}

export interface TestApp {
  readonly app: express.Express;
  readonly deps: AppDeps;
  readonly config: Config;
  readonly logger: Logger;
  close(): Promise<void>;
}

/** Builds a real app; always `await t.close()` (in afterAll) to release the pool. */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const env: Record<string, string | undefined> = { ...baseTestEnv(), ...opts.env };
  if (opts.schemaPath) env.CUBEJS_SCHEMA_PATH = path.resolve(opts.schemaPath);
  const cwd = opts.cwd ?? mkdtempSync(path.join(tmpdir(), 'tessera-test-'));
  if (typeof opts.configFile === 'string') {
    env.TESSERA_CONFIG = path.resolve(opts.configFile);
  } else if (opts.configFile) {
    // Inside the repo, so the file can import packages (zod, jsonwebtoken) from node_modules.
    const dir = path.join(REPO_ROOT, '.tessera', 'test-configs');
    mkdirSync(dir, { recursive: true });
    const file = path.join(mkdtempSync(path.join(dir, 'cfg-')), opts.configFile.name);
    writeFileSync(file, opts.configFile.source);
    env.TESSERA_CONFIG = file;
  }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];

  const config = await loadConfig({ env, cwd });
  const logger = createLogger({ level: config.logLevel, ...(opts.logDestination ? { destination: opts.logDestination } : {}) });
  if (!config.database.url) throw new Error('createTestApp needs DATABASE_URL (set by the base test env)');
  const db = createDatabase({ ...config.database, url: config.database.url }, logger);
  try {
    const deps = await createAppDeps({ config, db, logger });
    const app = createApp(deps);
    // The app's limiter timers stop and send their counts first; deps.db is the result cache in front
    // of db when the cache is on, and closing it closes both.
    const close = async () => {
      await closeApp(app);
      await deps.db.close();
    };
    return { app, deps, config, logger, close };
  } catch (err) {
    await db.close();
    throw err;
  }
}
