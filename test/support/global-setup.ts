/**
 * Runs once before the suite: finds a PostgreSQL (TEST_DATABASE_URL, else an
 * embedded server with a persistent data directory), makes sure the demo data
 * is seeded, and hands the URL to every test file through `inject('databaseUrl')`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { DEMO_SCHEMA, seedDemo } from '../../src/db/seed.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The PostgreSQL every test uses; the demo dataset is seeded in it. */
    databaseUrl: string;
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let embedded: EmbeddedPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: path.join(repoRoot, '.tessera', 'test-pgdata'), logger, database: 'test' });
    url = embedded.url;
  }
  await seedDemo(url);
  await resolveUnqualifiedNamesToDemo(url);
  project.provide('databaseUrl', url);
  // Spawned child processes (CLI tests) read it from the environment.
  process.env.TESSERA_TEST_DATABASE_URL = url;
}

/** Ground-truth SQL in tests names demo tables unqualified; every new session of the test database resolves them in the demo schema. */
async function resolveUnqualifiedNamesToDemo(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ db: string }>('select quote_ident(current_database()) as db');
    await client.query(`alter database ${rows[0]!.db} set search_path to ${DEMO_SCHEMA}, public`);
  } finally {
    await client.end();
  }
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
}
