/**
 * A complete, valid Config for auth tests, with overrides.
 */
import type { Config, ConfigHooks, JwtConfig } from '../../../src/config/config.js';

export interface ConfigOverrides {
  readonly devMode?: boolean;
  readonly apiSecrets?: readonly string[];
  readonly jwt?: Partial<JwtConfig>;
  readonly hooks?: ConfigHooks;
}

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const OTHER_SECRET = 'another-secret-0123456789-abcdefghijklm';

export function testConfig(overrides: ConfigOverrides = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    production: false,
    devMode: overrides.devMode ?? false,
    apiSecrets: overrides.apiSecrets ?? [SECRET],
    schemaPath: 'schema',
    configFile: undefined,
    database: { url: undefined, poolMax: 5, statementTimeoutMs: 30_000, connectionTimeoutMs: 5_000 },
    query: { defaultLimit: 10_000, maxLimit: 50_000, defaultTimezone: 'UTC' },
    jwt: { clockToleranceSec: 0, maxTokenBytes: 8192, ...overrides.jwt },
    hooks: overrides.hooks ?? {},
    operator: {
      authMode: 'none',
      password: undefined,
      https: false,
      sessionDays: 7,
      trustedProxies: [],
      redisUrl: undefined,
      argon2MemoryKib: 19456,
      loginMaxFailures: 5,
      loginWindowSec: 900,
      queryRateLimit: 100,
      queryRateWindowSec: 60,
    },
    logLevel: 'silent',
  };
}
