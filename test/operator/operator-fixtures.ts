/**
 * Shared fixtures for the operator tests: unique metadata schemas, a Config
 * with operator settings filled in, and the real app on its own schema.
 */
import { randomBytes } from 'node:crypto';
import type { Config, OperatorConfig } from '../../src/config/config.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** A fresh schema name per test file, so files never share operator state. */
export const uniqueSchema = (label: string): string => `op_${label}_${randomBytes(4).toString('hex')}`;

export function operatorTestConfig(operator: Partial<OperatorConfig>): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    production: false,
    devMode: false,
    apiSecrets: ['operator-test-secret'],
    schemaPath: 'schema',
    configFile: undefined,
    database: { url: undefined, poolMax: 4, statementTimeoutMs: 10_000, connectionTimeoutMs: 5000 },
    query: { defaultLimit: 10_000, maxLimit: 50_000, defaultTimezone: 'UTC' },
    jwt: { clockToleranceSec: 0, maxTokenBytes: 8192 },
    hooks: {},
    operator: {
      authMode: 'local',
      password: undefined,
      https: true,
      sessionDays: 7,
      trustedProxies: [],
      redisUrl: undefined,
      argon2MemoryKib: 1024,
      loginMaxFailures: 5,
      loginWindowSec: 900,
      queryRateLimit: 600,
      queryRateWindowSec: 60,
      ...operator,
    },
    logLevel: 'silent',
  };
}


export interface OperatorApp extends TestApp {
  /** The metadata schema this app alone uses. */
  readonly schema: string;
}

/**
 * The real app (createTestApp) with its own metadata schema, dropped on close.
 * Argon2 runs with 1 MiB so tests stay quick; the parameters are still checked.
 */
export async function startOperatorApp(env: Readonly<Record<string, string | undefined>>): Promise<OperatorApp> {
  const schema = uniqueSchema('http');
  const t = await createTestApp({ env: { TESSERA_META_SCHEMA: schema, TESSERA_ARGON2_MEMORY_KIB: '1024', ...env } });
  return {
    ...t,
    schema,
    async close() {
      await t.deps.db.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await t.close();
    },
  };
}
