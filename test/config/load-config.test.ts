import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors/engine-error.js';
import { REPO_ROOT } from '../support/test-app.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'tessera-cfg-'));
/** A directory holding one config file; inside the repo so it can import packages. */
function dirWith(name: string, source: string): string {
  const root = path.join(REPO_ROOT, '.tessera', 'test-configs');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(path.join(root, 'unit-'));
  writeFileSync(path.join(dir, name), source);
  return dir;
}
const load = (env: Record<string, string>, cwd = emptyDir(), devSecret?: string) =>
  loadConfig(devSecret ? { env, cwd, devSecret } : { env, cwd });
const PROD = { NODE_ENV: 'production', TESSERA_AUTH: 'password', TESSERA_PASSWORD: 'x' };

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('loadConfig defaults', () => {
  it('fills every documented default from an empty environment', async () => {
    const cwd = emptyDir();
    const c = await load({}, cwd);
    expect(c).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      production: false,
      devMode: true,
      apiSecrets: [],
      schemaPath: path.join(cwd, 'schema'),
      configFile: undefined,
      dataDir: path.join(cwd, '.tessera'),
      seedOnStart: false,
      database: { url: undefined, poolMax: 10, statementTimeoutMs: 30_000, connectionTimeoutMs: 5000 },
      query: { defaultLimit: 10_000, maxLimit: 50_000, defaultTimezone: 'UTC' },
      jwt: { clockToleranceSec: 0, maxTokenBytes: 8192 },
      operator: {
        authMode: 'none', password: undefined, https: true, sessionDays: 7, trustedProxies: [], redisUrl: undefined,
        argon2MemoryKib: 19_456, loginMaxFailures: 5, loginWindowSec: 900, queryRateLimit: 600, queryRateWindowSec: 60,
      },
      logLevel: 'info',
    });
  });

  it('returns a deeply frozen object', async () => {
    const c = await load({ CUBEJS_API_SECRET: 's', TESSERA_TRUSTED_PROXIES: '10.0.0.0/8' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.database)).toBe(true);
    expect(Object.isFrozen(c.apiSecrets)).toBe(true);
    expect(Object.isFrozen(c.operator.trustedProxies)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('listens on all interfaces outside dev mode', async () => {
    expect((await load({ CUBEJS_API_SECRET: 's' })).host).toBe('0.0.0.0');
    expect((await load({ CUBEJS_API_SECRET: 's', HOST: '10.1.2.3' })).host).toBe('10.1.2.3');
  });

  it('resolves the schema path against the working directory', async () => {
    const cwd = emptyDir();
    expect((await load({ CUBEJS_SCHEMA_PATH: 'model' }, cwd)).schemaPath).toBe(path.join(cwd, 'model'));
    expect((await load({ TESSERA_SCHEMA_PATH: '/abs/models' }, cwd)).schemaPath).toBe('/abs/models');
  });
});

describe('loadConfig validation names the bad option', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'must be a whole number'],
    [{ PORT: '70000' }, 'PORT', 'must be at most 65535'],
    [{ CUBEJS_DB_MAX_POOL: '0' }, 'CUBEJS_DB_MAX_POOL', 'must be at least 1'],
    [{ CUBEJS_DEFAULT_TIMEZONE: 'Mars/Olympus' }, 'CUBEJS_DEFAULT_TIMEZONE', 'valid IANA time zone'],
    [{ CUBEJS_DB_QUERY_TIMEOUT: 'soon' }, 'CUBEJS_DB_QUERY_TIMEOUT', 'must be a duration'],
    [{ CUBEJS_JWT_ALGS: 'RS256,none' }, 'CUBEJS_JWT_ALGS (1)', 'must list only'],
    [{ TESSERA_JWT_TOKEN_USE: 'refresh' }, 'TESSERA_JWT_TOKEN_USE', 'must be access or id'],
    [{ CUBEJS_JWK_URL: 'file:///etc/passwd' }, 'CUBEJS_JWK_URL', 'must be an http(s) URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'postgres://'],
    [{ REDIS_URL: 'http://redis' }, 'REDIS_URL', 'redis://'],
    [{ TESSERA_TRUSTED_PROXIES: '10.0.0.0/8,1.2.3.4/33' }, 'TESSERA_TRUSTED_PROXIES (1)', '"1.2.3.4/33" is not an IP address or CIDR block'],
    [{ TESSERA_TRUSTED_PROXIES: 'proxy.local' }, 'TESSERA_TRUSTED_PROXIES (0)', 'is not an IP address'],
    [{ TESSERA_HTTPS: 'maybe' }, 'TESSERA_HTTPS', 'must be true or false'],
    [{ TESSERA_AUTH: 'ldap' }, 'TESSERA_AUTH', 'must be none, password or local'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'must be one of'],
    [{ CUBEJS_DB_TYPE: 'mysql' }, 'CUBEJS_DB_TYPE', 'only PostgreSQL'],
    [{ CUBEJS_API_SECRET: 'a', TESSERA_API_SECRET: 'b' }, 'CUBEJS_API_SECRET', 'alias TESSERA_API_SECRET'],
  ])('rejects %o naming %s', async (env, option, message) => {
    const err = await configError(load(env as Record<string, string>));
    expect(err.option).toBe(option);
    expect(err.message).toContain(message);
  });

  it('accepts an alias set to the same value as its Cube name', async () => {
    expect((await load({ CUBEJS_API_SECRET: 'same', TESSERA_API_SECRET: 'same' })).apiSecrets).toEqual(['same']);
  });
});

describe('secrets, dev mode and production refusals', () => {
  it('lists the secrets list first, then the single secret, then the file, without duplicates', async () => {
    const cwd = dirWith('tessera.config.mjs', "export default { apiSecrets: ['b', 'd'] };");
    const c = await load({ CUBEJS_API_SECRETS: 'a, b,,a', CUBEJS_API_SECRET: 'c' }, cwd);
    expect(c.apiSecrets).toEqual(['a', 'b', 'c', 'd']);
    expect(c.devMode).toBe(false);
  });

  it('takes the TESSERA_ aliases of the secrets', async () => {
    expect((await load({ TESSERA_API_SECRETS: 'x,y', TESSERA_API_SECRET: 'z' })).apiSecrets).toEqual(['x', 'y', 'z']);
  });

  it('is in dev mode outside production when nothing can verify a token', async () => {
    expect((await load({})).devMode).toBe(true);
    expect((await load({ CUBEJS_API_SECRET: 's' })).devMode).toBe(false);
    expect((await load({ CUBEJS_JWK_URL: 'https://idp.example/jwks.json' })).devMode).toBe(false);
  });

  it('turns dev mode on with CUBEJS_DEV_MODE=true even with a secret, and off with false', async () => {
    expect((await load({ CUBEJS_API_SECRET: 's', CUBEJS_DEV_MODE: 'true' })).devMode).toBe(true);
    expect((await load({ CUBEJS_DEV_MODE: 'false' })).devMode).toBe(false);
  });

  it('uses the CLI dev secret only when no secret is configured, keeping dev mode on', async () => {
    const dev = await load({}, emptyDir(), 'generated');
    expect(dev.apiSecrets).toEqual(['generated']);
    expect(dev.devMode).toBe(true);
    expect((await load({ CUBEJS_API_SECRET: 'mine' }, emptyDir(), 'generated')).apiSecrets).toEqual(['mine']);
  });

  it('refuses production without a secret, JWKS URL or checkAuth, saying why', async () => {
    const err = await configError(load(PROD));
    expect(err.option).toBe('CUBEJS_API_SECRET');
    expect(err.message).toMatch(/NODE_ENV=production .* no token could be verified; refusing to start/);
  });

  it('ignores the CLI dev secret in production', async () => {
    await configError(loadConfig({ env: PROD, cwd: emptyDir(), devSecret: 'generated' }));
  });

  it('starts in production with only a JWKS URL, or only a checkAuth', async () => {
    expect((await load({ ...PROD, CUBEJS_JWK_URL: 'https://idp.example/jwks.json' })).production).toBe(true);
    const cwd = dirWith('tessera.config.mjs', 'export default { checkAuth: (req) => { req.securityContext = {}; } };');
    expect((await load(PROD, cwd)).hooks.checkAuth).toBeTypeOf('function');
  });

  it('refuses CUBEJS_DEV_MODE=true in production', async () => {
    const err = await configError(load({ ...PROD, CUBEJS_API_SECRET: 's', CUBEJS_DEV_MODE: 'true' }));
    expect(err.option).toBe('CUBEJS_DEV_MODE');
  });

  it('defaults the operator auth mode to local in production and refuses none there', async () => {
    expect((await load({ NODE_ENV: 'production', CUBEJS_API_SECRET: 's' })).operator.authMode).toBe('local');
    const err = await configError(load({ NODE_ENV: 'production', CUBEJS_API_SECRET: 's', TESSERA_AUTH: 'none' }));
    expect(err.option).toBe('TESSERA_AUTH');
  });

  it('requires TESSERA_PASSWORD in password mode', async () => {
    const err = await configError(load({ TESSERA_AUTH: 'password' }));
    expect(err.option).toBe('TESSERA_PASSWORD');
  });
});

describe('database, query and operator options', () => {
  it('builds the database URL from Cube variables, encoding each part', async () => {
    const c = await load({
      CUBEJS_DB_HOST: 'db.internal', CUBEJS_DB_PORT: '6543', CUBEJS_DB_NAME: 'sales/eu',
      CUBEJS_DB_USER: 'ana@corp', CUBEJS_DB_PASS: 'p@ss:w/rd#1',
    });
    expect(c.database.url).toBe('postgres://ana%40corp:p%40ss%3Aw%2Frd%231@db.internal:6543/sales%2Feu');
    expect(new URL(c.database.url!).password).toBe('p%40ss%3Aw%2Frd%231');
  });

  it('prefers DATABASE_URL over the Cube variables', async () => {
    const c = await load({ DATABASE_URL: 'postgres://u@h/d', CUBEJS_DB_HOST: 'other' });
    expect(c.database.url).toBe('postgres://u@h/d');
  });

  it("reads Cube's query timeout as a duration, and TESSERA_DB_STATEMENT_TIMEOUT_MS over it", async () => {
    expect((await load({ CUBEJS_DB_QUERY_TIMEOUT: '10m' })).database.statementTimeoutMs).toBe(600_000);
    expect((await load({ CUBEJS_DB_QUERY_TIMEOUT: '45' })).database.statementTimeoutMs).toBe(45_000);
    expect((await load({ CUBEJS_DB_QUERY_TIMEOUT: '10m', TESSERA_DB_STATEMENT_TIMEOUT_MS: '1500' })).database.statementTimeoutMs).toBe(1500);
  });

  it('caps the default limit at the maximum, as Cube does', async () => {
    const c = await load({ CUBEJS_DB_QUERY_DEFAULT_LIMIT: '900', CUBEJS_DB_QUERY_LIMIT: '500' });
    expect(c.query).toEqual({ defaultLimit: 500, maxLimit: 500, defaultTimezone: 'UTC' });
  });

  it('splits JWT lists and normalises trusted proxies to CIDR blocks', async () => {
    const c = await load({
      CUBEJS_JWT_AUDIENCE: 'app-a, app-b', CUBEJS_JWT_ISSUER: 'https://idp.example/', CUBEJS_JWT_ALGS: 'RS256,ES256',
      TESSERA_JWT_CLIENT_ID: 'client1', TESSERA_JWT_TOKEN_USE: 'access', TESSERA_JWT_CLOCK_TOLERANCE_SEC: '30',
      TESSERA_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7, ::1',
    });
    expect(c.jwt).toMatchObject({
      audience: ['app-a', 'app-b'], issuer: ['https://idp.example/'], algorithms: ['RS256', 'ES256'],
      clientId: ['client1'], tokenUse: 'access', clockToleranceSec: 30,
    });
    expect(c.operator.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.7/32', '::1/128']);
  });
});

describe('config files', () => {
  it('reads tessera.config.mjs from the working directory, its jwt block winning over the environment', async () => {
    const cwd = dirWith('tessera.config.mjs', `export default {
      jwt: { jwkUrl: 'https://file.example/jwks', audience: ['file-aud'], claimsNamespace: 'https://ns/' },
      queryRewrite: (q) => q,
    };`);
    const c = await load({ CUBEJS_JWK_URL: 'https://env.example/jwks', CUBEJS_JWT_ISSUER: 'env-iss' }, cwd);
    expect(c.configFile).toBe(path.join(cwd, 'tessera.config.mjs'));
    expect(c.jwt).toMatchObject({ jwkUrl: 'https://file.example/jwks', audience: ['file-aud'], issuer: ['env-iss'], claimsNamespace: 'https://ns/' });
    expect(c.hooks.queryRewrite).toBeTypeOf('function');
  });

  it('reads a TypeScript config file with a zod security context schema', async () => {
    const cwd = dirWith('tessera.config.ts', `import { z } from 'zod';
      const config: Record<string, unknown> = { securityContextSchema: z.object({ tenant_id: z.number() }) };
      export default config;`);
    const c = await load({}, cwd);
    expect(c.hooks.securityContextSchema?.safeParse({ tenant_id: 1 }).success).toBe(true);
  });

  it("reads an existing Cube cube.js written as CommonJS, accepting queryTransformer as queryRewrite", async () => {
    const cwd = dirWith('cube.js', `module.exports = {
      queryTransformer: (query) => query,
      contextToAppId: () => 'app',
    };`);
    const c = await load({}, cwd);
    expect(c.hooks.queryRewrite).toBeTypeOf('function');
  });

  it('reads the file named by TESSERA_CONFIG, and names it when it is missing', async () => {
    const dir = dirWith('custom.mjs', "export default { apiSecrets: ['from-file'] };");
    expect((await load({ TESSERA_CONFIG: path.join(dir, 'custom.mjs') })).apiSecrets).toEqual(['from-file']);
    const err = await configError(load({ TESSERA_CONFIG: path.join(dir, 'nope.mjs') }));
    expect(err.option).toBe('TESSERA_CONFIG');
  });

  it.each([
    ['export default { chekAuth: () => {} };', 'chekAuth', 'is not a Tessera option'],
    ["export default { checkAuth: 'yes' };", 'checkAuth (in tessera.config.mjs)', 'must be a function'],
    ['export default { securityContextSchema: { parse() {} } };', 'securityContextSchema (in tessera.config.mjs)', 'safeParse'],
    ["export default { jwt: { jwkUrl: 'https://x/jwks', key: 'secret' } };", 'jwt (in tessera.config.mjs)', 'key'],
    ['export default { queryRewrite: (q) => q, queryTransformer: (q) => q };', 'queryTransformer', 'not both'],
    ["export default { apiSecrets: ['ok', 42] };", 'apiSecrets (in tessera.config.mjs) (1)', 'must be a string'],
    ["export default { apiSecrets: 'one' };", 'apiSecrets (in tessera.config.mjs)', 'must be an array of strings'],
    ["throw new Error('broken config');", 'tessera.config.mjs', 'broken config'],
  ])('rejects %s naming %s', async (source, option, message) => {
    const err = await configError(load({}, dirWith('tessera.config.mjs', source)));
    expect(err.option).toBe(option);
    expect(err.message).toContain(message);
  });
});
