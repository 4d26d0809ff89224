/**
 * The only reader of the environment and the config file. Everything is
 * gathered into one raw object, validated once with zod, cross-checked, and
 * frozen; a bad option throws a `ConfigError` that names it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors/engine-error.js';
import type { AuditConfig, Config, ConfigHooks } from './config.js';
import { defaultTenantConcurrency } from '../db/fair-queue.js';

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
  /** Where the config file and the schema folder are looked up; defaults to `process.cwd()`. */
  readonly cwd?: string;
  /**
   * A secret the CLI generated for the embedded demo. Used only outside
   * production when no secret is configured; dev mode stays on.
   */
  readonly devSecret?: string;
  /** The demo's dev-mode context, used when neither the config file nor the environment sets one. */
  readonly devSecurityContext?: Readonly<Record<string, unknown>>;
}

/** Config files looked up in the working directory, in this order. */
export const CONFIG_FILE_NAMES = ['tessera.config.js', 'tessera.config.mjs', 'tessera.config.ts', 'cube.js'] as const;

const JWT_ALGORITHMS = [
  'HS256', 'HS384', 'HS512',
  'RS256', 'RS384', 'RS512',
  'ES256', 'ES384', 'ES512',
  'PS256', 'PS384', 'PS512',
] as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Keys a Tessera config file may export; anything else is a typo and stops start-up. */
const FILE_KEYS = [
  'apiSecrets', 'schemaPath', 'jwt', 'checkAuth', 'queryRewrite', 'queryTransformer',
  'contextToGroups', 'securityContextSchema', 'contextToAppId',
  'devSecurityContext', 'missingClaims',
] as const;

type Env = Readonly<Record<string, string | undefined>>;
type Raw = Record<string, unknown>;

/** Loads, validates and freezes the configuration. Throws `ConfigError` naming the bad option. */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<Config> {
  const env: Env = opts.env ?? process.env;
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const file = await readConfigFile(env, cwd);
  const fileOptions = file?.options ?? {};

  // Every raw value remembers the option name a user would recognise, so a zod issue can name it.
  const sources = new Map<string, string>();
  const fromEnv = (key: string, ...names: string[]): string | undefined => {
    const found = pickEnv(env, names);
    if (found) sources.set(key, found.name);
    return found?.value;
  };
  const fromFileOr = (key: string, fileKey: string, value: unknown, envValue: string | undefined): unknown => {
    if (value !== undefined) {
      sources.set(key, `${fileKey} (in ${file?.name ?? 'config file'})`);
      return value;
    }
    return envValue;
  };
  const fileJwt = isPlainObject(fileOptions.jwt) ? fileOptions.jwt : {};

  const raw: Raw = {
    port: fromEnv('port', 'PORT'),
    host: fromEnv('host', 'HOST'),
    nodeEnv: fromEnv('nodeEnv', 'NODE_ENV'),
    devModeFlag: fromEnv('devModeFlag', 'CUBEJS_DEV_MODE', 'TESSERA_DEV_MODE'),
    apiSecretList: fromEnv('apiSecretList', 'CUBEJS_API_SECRETS', 'TESSERA_API_SECRETS'),
    apiSecret: fromEnv('apiSecret', 'CUBEJS_API_SECRET', 'TESSERA_API_SECRET'),
    fileApiSecrets: fromFileOr('fileApiSecrets', 'apiSecrets', fileOptions.apiSecrets, undefined),
    schemaPath: fromFileOr('schemaPath', 'schemaPath', fileOptions.schemaPath,
      fromEnv('schemaPath', 'CUBEJS_SCHEMA_PATH', 'TESSERA_SCHEMA_PATH')),
    databaseUrl: databaseUrlFromEnv(env, sources),
    poolMax: fromEnv('poolMax', 'TESSERA_DB_POOL_MAX', 'CUBEJS_DB_MAX_POOL'),
    statementTimeoutMs: fromEnv('statementTimeoutMs', 'TESSERA_DB_STATEMENT_TIMEOUT_MS'),
    cubeQueryTimeout: fromEnv('cubeQueryTimeout', 'CUBEJS_DB_QUERY_TIMEOUT', 'TESSERA_DB_QUERY_TIMEOUT'),
    connectionTimeoutMs: fromEnv('connectionTimeoutMs', 'TESSERA_DB_CONNECTION_TIMEOUT_MS'),
    defaultLimit: fromEnv('defaultLimit', 'CUBEJS_DB_QUERY_DEFAULT_LIMIT', 'TESSERA_QUERY_DEFAULT_LIMIT'),
    maxLimit: fromEnv('maxLimit', 'CUBEJS_DB_QUERY_LIMIT', 'TESSERA_QUERY_LIMIT'),
    defaultTimezone: fromEnv('defaultTimezone', 'CUBEJS_DEFAULT_TIMEZONE', 'TESSERA_DEFAULT_TIMEZONE'),
    jwkUrl: fromFileOr('jwkUrl', 'jwt.jwkUrl', fileJwt.jwkUrl, fromEnv('jwkUrl', 'CUBEJS_JWK_URL', 'TESSERA_JWK_URL')),
    issuer: fromFileOr('issuer', 'jwt.issuer', fileJwt.issuer, fromEnv('issuer', 'CUBEJS_JWT_ISSUER', 'TESSERA_JWT_ISSUER')),
    audience: fromFileOr('audience', 'jwt.audience', fileJwt.audience,
      fromEnv('audience', 'CUBEJS_JWT_AUDIENCE', 'TESSERA_JWT_AUDIENCE')),
    subject: fromFileOr('subject', 'jwt.subject', fileJwt.subject, fromEnv('subject', 'CUBEJS_JWT_SUBJECT', 'TESSERA_JWT_SUBJECT')),
    algorithms: fromFileOr('algorithms', 'jwt.algorithms', fileJwt.algorithms,
      fromEnv('algorithms', 'CUBEJS_JWT_ALGS', 'TESSERA_JWT_ALGS')),
    claimsNamespace: fromFileOr('claimsNamespace', 'jwt.claimsNamespace', fileJwt.claimsNamespace,
      fromEnv('claimsNamespace', 'CUBEJS_JWT_CLAIMS_NAMESPACE', 'TESSERA_JWT_CLAIMS_NAMESPACE')),
    clockToleranceSec: fromFileOr('clockToleranceSec', 'jwt.clockTolerance', fileJwt.clockTolerance,
      fromEnv('clockToleranceSec', 'TESSERA_JWT_CLOCK_TOLERANCE_SEC')),
    clientId: fromFileOr('clientId', 'jwt.clientId', fileJwt.clientId, fromEnv('clientId', 'TESSERA_JWT_CLIENT_ID')),
    tokenUse: fromFileOr('tokenUse', 'jwt.tokenUse', fileJwt.tokenUse, fromEnv('tokenUse', 'TESSERA_JWT_TOKEN_USE')),
    maxTokenBytes: fromEnv('maxTokenBytes', 'TESSERA_MAX_TOKEN_BYTES'),
    fileJwt: fromFileOr('fileJwt', 'jwt', fileOptions.jwt, undefined),
    checkAuth: fromFileOr('checkAuth', 'checkAuth', fileOptions.checkAuth, undefined),
    queryRewrite: fromFileOr('queryRewrite', 'queryRewrite', fileOptions.queryRewrite, undefined),
    queryTransformer: fromFileOr('queryTransformer', 'queryTransformer', fileOptions.queryTransformer, undefined),
    contextToGroups: fromFileOr('contextToGroups', 'contextToGroups', fileOptions.contextToGroups, undefined),
    contextToAppId: fromFileOr('contextToAppId', 'contextToAppId', fileOptions.contextToAppId, undefined),
    securityContextSchema: fromFileOr('securityContextSchema', 'securityContextSchema',
      fileOptions.securityContextSchema, undefined),
    authMode: fromEnv('authMode', 'TESSERA_AUTH'),
    password: fromEnv('password', 'TESSERA_PASSWORD'),
    https: fromEnv('https', 'TESSERA_HTTPS'),
    sessionDays: fromEnv('sessionDays', 'TESSERA_SESSION_DAYS'),
    trustedProxies: fromEnv('trustedProxies', 'TESSERA_TRUSTED_PROXIES'),
    redisUrl: fromEnv('redisUrl', 'REDIS_URL', 'TESSERA_REDIS_URL'),
    argon2MemoryKib: fromEnv('argon2MemoryKib', 'TESSERA_ARGON2_MEMORY_KIB'),
    loginMaxFailures: fromEnv('loginMaxFailures', 'TESSERA_LOGIN_MAX_FAILURES'),
    loginWindowSec: fromEnv('loginWindowSec', 'TESSERA_LOGIN_WINDOW_SEC'),
    queryRateLimit: fromEnv('queryRateLimit', 'TESSERA_QUERY_RATE_LIMIT'),
    queryRateWindowSec: fromEnv('queryRateWindowSec', 'TESSERA_QUERY_RATE_WINDOW_SEC'),
    rateLimitFlushMs: fromEnv('rateLimitFlushMs', 'TESSERA_RATE_LIMIT_FLUSH_MS'),
    metaSchema: fromEnv('metaSchema', 'TESSERA_META_SCHEMA'),
    corsOrigins: fromEnv('corsOrigins', 'TESSERA_CORS_ORIGINS'),
    logLevel: fromEnv('logLevel', 'LOG_LEVEL', 'TESSERA_LOG_LEVEL'),
    dataDir: fromEnv('dataDir', 'TESSERA_DATA_DIR'),
    seedOnStart: fromEnv('seedOnStart', 'TESSERA_SEED'),
    // Issue 12: fail-closed switches.
    missingClaims: fromFileOr('missingClaims', 'missingClaims', fileOptions.missingClaims,
      fromEnv('missingClaims', 'TESSERA_MISSING_CLAIMS')),
    devSecurityContext: fromFileOr('devSecurityContext', 'devSecurityContext', fileOptions.devSecurityContext,
      fromEnv('devSecurityContext', 'TESSERA_DEV_SECURITY_CONTEXT')),
    maxTokenLifetimeSec: fromEnv('maxTokenLifetimeSec', 'TESSERA_JWT_MAX_LIFETIME_SEC'),
    setupToken: fromEnv('setupToken', 'TESSERA_SETUP_TOKEN'),
    anonymousRateLimit: fromEnv('anonymousRateLimit', 'TESSERA_ANONYMOUS_RATE_LIMIT'),
    anonymousRateWindowSec: fromEnv('anonymousRateWindowSec', 'TESSERA_ANONYMOUS_RATE_WINDOW_SEC'),
    // Budgets, fairness, timeouts and shutdown (issue 13).
    clientTimeoutMs: fromEnv('clientTimeoutMs', 'TESSERA_DB_CLIENT_TIMEOUT_MS'),
    tenantConcurrency: fromEnv('tenantConcurrency', 'TESSERA_DB_TENANT_CONCURRENCY'),
    queueDepth: fromEnv('queueDepth', 'TESSERA_DB_QUEUE_DEPTH'),
    transactionPooling: fromEnv('transactionPooling', 'TESSERA_DB_TRANSACTION_POOLING'),
    maxFilterDepth: fromEnv('maxFilterDepth', 'TESSERA_MAX_FILTER_DEPTH'),
    maxFilters: fromEnv('maxFilters', 'TESSERA_MAX_FILTERS'),
    maxFilterValues: fromEnv('maxFilterValues', 'TESSERA_MAX_FILTER_VALUES'),
    maxParams: fromEnv('maxParams', 'TESSERA_MAX_QUERY_PARAMS'),
    maxValueLength: fromEnv('maxValueLength', 'TESSERA_MAX_VALUE_LENGTH'),
    maxDateLength: fromEnv('maxDateLength', 'TESSERA_MAX_DATE_LENGTH'),
    maxMembers: fromEnv('maxMembers', 'TESSERA_MAX_MEMBERS'),
    maxMultiQueryRows: fromEnv('maxMultiQueryRows', 'TESSERA_MAX_MULTI_QUERY_ROWS'),
    requestTimeoutMs: fromEnv('requestTimeoutMs', 'TESSERA_REQUEST_TIMEOUT_MS'),
    shutdownGraceMs: fromEnv('shutdownGraceMs', 'TESSERA_SHUTDOWN_GRACE_MS'),
    startupRetryMaxMs: fromEnv('startupRetryMaxMs', 'TESSERA_DB_RETRY_MAX_MS'),
    // The result cache (issue 14).
    cacheEnabled: fromEnv('cacheEnabled', 'TESSERA_CACHE'),
    cacheMaxBytes: fromEnv('cacheMaxBytes', 'TESSERA_CACHE_MAX_BYTES'),
    cacheDefaultRefreshSec: fromEnv('cacheDefaultRefreshSec', 'TESSERA_CACHE_DEFAULT_REFRESH_SEC'),
    cacheMaxAgeSec: fromEnv('cacheMaxAgeSec', 'TESSERA_CACHE_MAX_AGE_SEC'),
    cacheRedisPrefix: fromEnv('cacheRedisPrefix', 'TESSERA_CACHE_REDIS_PREFIX'),
    continueWaitMs: fromEnv('continueWaitMs', 'TESSERA_CONTINUE_WAIT_MS'),
    rowLevelSecurity: fromEnv('rowLevelSecurity', 'TESSERA_DB_RLS'),
    rlsRole: fromEnv('rlsRole', 'TESSERA_DB_RLS_ROLE'),
    audit: fromEnv('audit', 'TESSERA_AUDIT'),
    auditClaimValues: fromEnv('auditClaimValues', 'TESSERA_AUDIT_CLAIM_VALUES'),
  };

  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? 'config');
    const rest = issue.path.slice(1).map(String);
    const name = (sources.get(key) ?? key) + (rest.length ? ` (${rest.join('.')})` : '');
    throw new ConfigError(name, issue.message);
  }
  const o = parsed.data;
  const name = (key: string, fallback: string): string => sources.get(key) ?? fallback;

  const production = o.nodeEnv === 'production';
  const configuredSecrets = dedupe([...o.apiSecretList, ...(o.apiSecret ? [o.apiSecret] : []), ...o.fileApiSecrets]);
  if (o.queryRewrite && o.queryTransformer) {
    throw new ConfigError('queryTransformer', 'set either queryRewrite or its older name queryTransformer, not both');
  }
  const hasVerifier = configuredSecrets.length > 0 || o.jwkUrl !== undefined || o.checkAuth !== undefined;
  if (production && !hasVerifier) {
    throw new ConfigError(
      'CUBEJS_API_SECRET',
      'NODE_ENV=production and no CUBEJS_API_SECRET, CUBEJS_API_SECRETS, CUBEJS_JWK_URL or checkAuth is set, so no token could be verified; refusing to start',
    );
  }
  if (production && o.devModeFlag === true) {
    throw new ConfigError(name('devModeFlag', 'CUBEJS_DEV_MODE'), 'dev mode lets requests without a token through and is refused when NODE_ENV=production');
  }
  // Dev mode only when nothing could verify a token, or when asked for explicitly.
  const devMode = o.devModeFlag ?? (!production && !hasVerifier);
  const apiSecrets =
    configuredSecrets.length === 0 && !production && opts.devSecret ? [opts.devSecret] : configuredSecrets;

  const authMode = o.authMode ?? (production ? 'local' : 'none');
  if (production && authMode === 'none') {
    throw new ConfigError(name('authMode', 'TESSERA_AUTH'), 'none leaves the operator API without a login and is refused when NODE_ENV=production');
  }
  if (authMode === 'password' && !o.password) {
    throw new ConfigError('TESSERA_PASSWORD', 'is required when TESSERA_AUTH=password');
  }
  const defaultLimit = Math.min(o.defaultLimit, o.maxLimit);
  const statementTimeoutMs = o.statementTimeoutMs ?? o.cubeQueryTimeout ?? 30_000;
  const resilience = resilienceOptions(o, statementTimeoutMs, name);
  const hooks: ConfigHooks = Object.freeze({
    checkAuth: o.checkAuth as ConfigHooks['checkAuth'],
    queryRewrite: (o.queryRewrite ?? o.queryTransformer) as ConfigHooks['queryRewrite'],
    contextToGroups: o.contextToGroups as ConfigHooks['contextToGroups'],
    contextToAppId: o.contextToAppId as ConfigHooks['contextToAppId'],
    securityContextSchema: o.securityContextSchema as ConfigHooks['securityContextSchema'],
  });

  const config: Config = {
    port: o.port,
    // Dev mode answers without a token, so it listens on loopback unless told otherwise.
    host: o.host ?? (devMode ? '127.0.0.1' : '0.0.0.0'),
    production,
    devMode,
    apiSecrets,
    schemaPath: path.resolve(cwd, o.schemaPath),
    configFile: file?.path,
    dataDir: path.resolve(cwd, o.dataDir),
    seedOnStart: o.seedOnStart,
    database: {
      url: o.databaseUrl,
      poolMax: o.poolMax,
      statementTimeoutMs,
      connectionTimeoutMs: o.connectionTimeoutMs,
      ...resilience.database,
      rowLevelSecurity: o.rowLevelSecurity,
      rlsRole: o.rlsRole,
    },
    query: { defaultLimit, maxLimit: o.maxLimit, defaultTimezone: o.defaultTimezone },
    budgets: resilience.budgets,
    server: resilience.server,
    jwt: {
      jwkUrl: o.jwkUrl,
      issuer: o.issuer,
      audience: o.audience,
      subject: o.subject,
      algorithms: o.algorithms,
      claimsNamespace: o.claimsNamespace,
      clockToleranceSec: o.clockToleranceSec,
      clientId: o.clientId,
      tokenUse: o.tokenUse,
      maxTokenBytes: o.maxTokenBytes,
    },
    hooks,
    operator: {
      authMode,
      password: o.password,
      https: o.https,
      sessionDays: o.sessionDays,
      trustedProxies: o.trustedProxies,
      redisUrl: o.redisUrl,
      argon2MemoryKib: o.argon2MemoryKib,
      loginMaxFailures: o.loginMaxFailures,
      loginWindowSec: o.loginWindowSec,
      queryRateLimit: o.queryRateLimit,
      queryRateWindowSec: o.queryRateWindowSec,
      rateLimitFlushMs: o.rateLimitFlushMs,
      metaSchema: o.metaSchema,
    },
    logLevel: o.logLevel,
    corsOrigins: o.corsOrigins,
    security: {
      missingClaims: o.missingClaims,
      devSecurityContext: o.devSecurityContext ?? opts.devSecurityContext,
      requireTokenExp: production,
      maxTokenLifetimeSec: o.maxTokenLifetimeSec,
      setupToken: o.setupToken,
      anonymousRateLimit: o.anonymousRateLimit,
      anonymousRateWindowSec: o.anonymousRateWindowSec,
    },
    cache: {
      enabled: o.cacheEnabled,
      maxBytes: o.cacheMaxBytes,
      defaultRefreshSec: o.cacheDefaultRefreshSec,
      maxAgeSec: o.cacheMaxAgeSec,
      redisPrefix: o.cacheRedisPrefix,
      continueWaitMs: o.continueWaitMs,
    },
    audit: { target: o.audit.kind === 'file' ? { kind: 'file', path: path.resolve(cwd, o.audit.path) } : o.audit, claimValues: o.auditClaimValues },
  };

  return deepFreezeData(config);
}

// ---------------------------------------------------------------------------
// The one zod schema over the raw values.

const str = z.string().trim();
const optionalText = str.min(1).optional();
const wholeNumber = (min: number, max: number) =>
  z.union([z.number(), str.regex(/^-?\d+$/, 'must be a whole number')])
    .transform(Number)
    .pipe(z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const int = (min: number, max: number, fallback: number) => wholeNumber(min, max).optional().transform((v) => v ?? fallback);
const bool = z.string().trim().toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** A comma list from env, or an array (or single string) from the config file. */
const list = <T extends z.ZodType<string, string>>(item: T) =>
  z.union([z.string(), z.array(z.string())]).optional()
    .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== '')))
    .pipe(z.array(item));
const optionalList = <T extends z.ZodType<string, string>>(item: T) =>
  list(item).transform((v) => (v.length === 0 ? undefined : Object.freeze(v)));
const fn = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', 'must be a function').optional();

const rawSchema = z.object({
  port: int(0, 65535, 4000),
  host: optionalText,
  nodeEnv: str.optional(),
  devModeFlag: bool.optional(),
  apiSecretList: list(z.string()),
  apiSecret: z.string().optional().transform((v) => (v === undefined || v.trim() === '' ? undefined : v)),
  fileApiSecrets: z.array(z.string('must be a string').min(1, 'must not be empty'), 'must be an array of strings').optional().transform((v) => v ?? []),
  schemaPath: str.min(1).default('schema'),
  databaseUrl: z.string().optional().refine(
    (v) => v === undefined || /^postgres(ql)?:\/\//.test(v) && URL.canParse(v),
    'must be a postgres:// or postgresql:// URL',
  ),
  poolMax: int(1, 1000, 10),
  statementTimeoutMs: wholeNumber(0, 86_400_000).optional(),
  cubeQueryTimeout: z.string().optional().transform((v, ctx) => {
    if (v === undefined) return undefined;
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration like 30s, 10m or 500ms' });
      return z.NEVER;
    }
    return ms;
  }),
  connectionTimeoutMs: int(100, 600_000, 5000),
  defaultLimit: int(1, 10_000_000, 10_000),
  maxLimit: int(1, 10_000_000, 50_000),
  defaultTimezone: str.default('UTC').refine(isValidTimeZone, 'must be a valid IANA time zone name such as UTC or Europe/Paris'),
  jwkUrl: z.string().optional().refine(
    (v) => v === undefined || /^https?:\/\//.test(v) && URL.canParse(v),
    'must be an http(s) URL',
  ),
  issuer: optionalList(z.string()),
  audience: optionalList(z.string()),
  subject: optionalText,
  algorithms: optionalList(z.enum(JWT_ALGORITHMS, `must list only ${JWT_ALGORITHMS.join(', ')}`)),
  claimsNamespace: optionalText,
  clockToleranceSec: int(0, 3600, 0),
  clientId: optionalList(z.string()),
  tokenUse: z.enum(['access', 'id'], 'must be access or id').optional(),
  maxTokenBytes: int(256, 1_048_576, 8192),
  // Validates the shape of the config file's `jwt` block (its values were lifted out above).
  fileJwt: z.strictObject({
    jwkUrl: z.unknown(), issuer: z.unknown(), audience: z.unknown(), subject: z.unknown(),
    algorithms: z.unknown(), claimsNamespace: z.unknown(), clockTolerance: z.unknown(),
    clientId: z.unknown(), tokenUse: z.unknown(),
  }).partial().optional(),
  checkAuth: fn,
  queryRewrite: fn,
  queryTransformer: fn,
  contextToGroups: fn,
  contextToAppId: fn,
  securityContextSchema: z.custom<object>(
    (v) => (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function',
    'must be a zod schema (an object with safeParse)',
  ).optional(),
  authMode: z.enum(['none', 'password', 'local'], 'must be none, password or local').optional(),
  password: z.string().optional().transform((v) => (v === '' ? undefined : v)),
  https: bool.optional().transform((v) => v ?? true),
  sessionDays: int(1, 3650, 7),
  trustedProxies: list(z.string().transform((v, ctx) => {
    const cidr = normaliseCidr(v);
    if (cidr === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not an IP address or CIDR block` });
      return z.NEVER;
    }
    return cidr;
  })).transform((v) => Object.freeze(v)),
  redisUrl: z.string().optional().refine(
    (v) => v === undefined || /^rediss?:\/\//.test(v) && URL.canParse(v),
    'must be a redis:// or rediss:// URL',
  ),
  argon2MemoryKib: int(8, 4_194_304, 19_456),
  loginMaxFailures: int(1, 1_000_000, 5),
  loginWindowSec: int(1, 86_400 * 30, 900),
  queryRateLimit: int(1, 1_000_000_000, 600),
  queryRateWindowSec: int(1, 86_400, 60),
  rateLimitFlushMs: int(10, 3_600_000, 250),
  corsOrigins: list(
    str.refine((v) => v === '*' || (URL.canParse(v) && new URL(v).origin === v), 'must be * or origins like https://app.example.com'),
  ).transform((v) => Object.freeze(v)),
  metaSchema: str.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case identifier of letters, digits and underscores').optional(),
  logLevel: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
  dataDir: str.min(1).default('.tessera'),
  seedOnStart: bool.optional().transform((v) => v ?? false),
  // Issue 12: fail-closed switches.
  missingClaims: z.enum(['refuse', 'matchAll'], 'must be refuse or matchAll').default('refuse'),
  devSecurityContext: z.union([z.string(), z.record(z.string(), z.unknown())]).optional().transform((v, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      const parsed: unknown = JSON.parse(v);
      if (isPlainObject(parsed)) return parsed;
    } catch {
      // Reported below.
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
    return z.NEVER;
  }),
  maxTokenLifetimeSec: wholeNumber(1, 86_400 * 3650).optional(),
  setupToken: z.string().optional().refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  anonymousRateLimit: int(1, 1_000_000_000, 300),
  anonymousRateWindowSec: int(1, 86_400, 60),
  // Budgets, fairness, timeouts and shutdown (issue 13); defaults a real dashboard never meets.
  clientTimeoutMs: wholeNumber(100, 86_400_000).optional(),
  tenantConcurrency: wholeNumber(1, 1000).optional(),
  queueDepth: int(0, 100_000, 100),
  transactionPooling: bool.optional().transform((v) => v ?? false),
  maxFilterDepth: int(1, 100, 20),
  maxFilters: int(1, 100_000, 500),
  maxFilterValues: int(1, 60_000, 10_000),
  maxParams: int(1, 65_000, 30_000),
  maxValueLength: int(1, 1_000_000, 10_000),
  maxDateLength: int(10, 1000, 100),
  maxMembers: int(1, 10_000, 200),
  maxMultiQueryRows: wholeNumber(1, 10_000_000).optional(),
  requestTimeoutMs: wholeNumber(100, 86_400_000).optional(),
  shutdownGraceMs: int(0, 3_600_000, 10_000),
  startupRetryMaxMs: int(100, 3_600_000, 30_000),
  // The result cache (issue 14).
  cacheEnabled: bool.optional().transform((v) => v ?? true),
  cacheMaxBytes: int(1024, 2 ** 40, 64 * 1024 * 1024),
  cacheDefaultRefreshSec: int(1, 86_400 * 30, 10),
  cacheMaxAgeSec: int(1, 86_400 * 30, 3600),
  cacheRedisPrefix: str.min(1).max(200).default('tessera:cache:'),
  continueWaitMs: int(0, 3_600_000, 10_000),
  rowLevelSecurity: z.string().trim().toLowerCase().optional()
    .refine((v) => v === undefined || ['on', 'off', 'true', 'false', '1', '0'].includes(v), 'must be on or off')
    .transform((v) => v === 'on' || v === 'true' || v === '1'),
  rlsRole: str.regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be a role name of letters, digits and underscores').default('tessera_query'),
  audit: z.string().trim().optional().transform((v, ctx): AuditConfig['target'] => {
    if (v === undefined || v === '' || v === 'off') return { kind: 'off' };
    if (v === 'stdout' || v === 'postgres') return { kind: v };
    if (v.startsWith('file:') && v.length > 5) return { kind: 'file', path: v.slice(5) };
    ctx.addIssue({ code: 'custom', message: 'must be stdout, file:<path>, postgres or off' });
    return z.NEVER;
  }),
  auditClaimValues: list(z.string()).transform((v) => Object.freeze(v)),
});

/** Budgets, fairness, timeouts and shutdown (issue 13), cross-checked against the statement timeout and row cap. */
function resilienceOptions(o: z.infer<typeof rawSchema>, statementTimeoutMs: number, name: (key: string, fallback: string) => string) {
  // The client waits longer than PostgreSQL, so the server's own timeout (a clean 57014) normally wins.
  const clientTimeoutMs = o.clientTimeoutMs ?? (statementTimeoutMs > 0 ? statementTimeoutMs + 5000 : undefined);
  if (clientTimeoutMs !== undefined && statementTimeoutMs > 0 && clientTimeoutMs <= statementTimeoutMs) {
    throw new ConfigError(name('clientTimeoutMs', 'TESSERA_DB_CLIENT_TIMEOUT_MS'), `must be longer than the statement timeout (${statementTimeoutMs} ms)`);
  }
  const maxMultiQueryRows = o.maxMultiQueryRows ?? o.maxLimit;
  if (maxMultiQueryRows > o.maxLimit) {
    throw new ConfigError(name('maxMultiQueryRows', 'TESSERA_MAX_MULTI_QUERY_ROWS'), `must not exceed the query row cap (${o.maxLimit})`);
  }
  return {
    database: {
      clientTimeoutMs,
      tenantConcurrency: Math.min(o.tenantConcurrency ?? defaultTenantConcurrency(o.poolMax), o.poolMax),
      queueDepth: o.queueDepth,
      transactionPooling: o.transactionPooling,
    },
    budgets: {
      maxFilterDepth: o.maxFilterDepth,
      maxFilters: o.maxFilters,
      maxFilterValues: o.maxFilterValues,
      maxParams: o.maxParams,
      maxValueLength: o.maxValueLength,
      maxDateLength: o.maxDateLength,
      maxMembers: o.maxMembers,
      maxMultiQueryRows,
    },
    server: {
      requestTimeoutMs: o.requestTimeoutMs ?? (clientTimeoutMs ?? 60_000) + 5000,
      shutdownGraceMs: o.shutdownGraceMs,
      startupRetryMaxMs: o.startupRetryMaxMs,
    },
  };
}

// ---------------------------------------------------------------------------
// Sources.

/** The first set variable among `names`; two aliases set to different values is an error. */
function pickEnv(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  const set = names.filter((n) => env[n] !== undefined && env[n] !== '');
  if (set.length === 0) return undefined;
  const first = set[0]!;
  const conflict = set.find((n) => env[n] !== env[first]);
  if (conflict) throw new ConfigError(first, `it and its alias ${conflict} are both set, to different values`);
  return { name: first, value: env[first]! };
}

/** DATABASE_URL, else a URL built from Cube's CUBEJS_DB_* variables (each part encoded). */
function databaseUrlFromEnv(env: Env, sources: Map<string, string>): string | undefined {
  const dbType = pickEnv(env, ['CUBEJS_DB_TYPE']);
  if (dbType && dbType.value !== 'postgres') {
    throw new ConfigError('CUBEJS_DB_TYPE', `Tessera speaks only PostgreSQL, not ${dbType.value}`);
  }
  const url = pickEnv(env, ['DATABASE_URL', 'TESSERA_DATABASE_URL']);
  if (url) {
    sources.set('databaseUrl', url.name);
    return url.value;
  }
  const host = pickEnv(env, ['CUBEJS_DB_HOST']);
  if (!host) return undefined;
  sources.set('databaseUrl', 'CUBEJS_DB_HOST');
  const port = pickEnv(env, ['CUBEJS_DB_PORT'])?.value ?? '5432';
  if (!/^\d{1,5}$/.test(port)) throw new ConfigError('CUBEJS_DB_PORT', 'must be a port number');
  const user = pickEnv(env, ['CUBEJS_DB_USER'])?.value;
  const pass = pickEnv(env, ['CUBEJS_DB_PASS'])?.value;
  const name = pickEnv(env, ['CUBEJS_DB_NAME'])?.value ?? 'postgres';
  const ssl = pickEnv(env, ['CUBEJS_DB_SSL'])?.value;
  const auth = user ? `${encodeURIComponent(user)}${pass ? `:${encodeURIComponent(pass)}` : ''}@` : '';
  // An IPv6 literal needs brackets in a URL.
  const hostPart = isIP(host.value) === 6 ? `[${host.value}]` : encodeURIComponent(host.value);
  const query = ssl === 'true' ? '?sslmode=require' : '';
  return `postgres://${auth}${hostPart}:${port}/${encodeURIComponent(name)}${query}`;
}

interface ConfigFile {
  readonly path: string;
  readonly name: string;
  readonly options: Record<string, unknown>;
}

async function readConfigFile(env: Env, cwd: string): Promise<ConfigFile | undefined> {
  const explicit = pickEnv(env, ['TESSERA_CONFIG']);
  let file: string | undefined;
  if (explicit) {
    file = path.resolve(cwd, explicit.value);
    if (!existsSync(file)) throw new ConfigError('TESSERA_CONFIG', `no file at ${file}`);
  } else {
    file = CONFIG_FILE_NAMES.map((n) => path.join(cwd, n)).find((p) => existsSync(p));
  }
  if (!file) return undefined;
  const name = path.basename(file);
  const isCube = name === 'cube.js';
  let mod: Record<string, unknown>;
  try {
    mod = await importConfigModule(file);
  } catch (e) {
    throw new ConfigError(name, `the file could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const exported = 'default' in mod && mod.default !== undefined ? mod.default : mod;
  if (!isPlainObject(exported) && !(typeof exported === 'object' && exported !== null)) {
    throw new ConfigError(name, 'must export an object of options');
  }
  const options = { ...(exported as Record<string, unknown>) };
  delete options['module.exports'];
  const unknown = Object.keys(options).filter((k) => !(FILE_KEYS as readonly string[]).includes(k) && k !== 'default');
  if (unknown.length > 0) {
    // A Cube config carries many options Tessera has no use for; a Tessera config with one is a typo.
    if (!isCube) throw new ConfigError(unknown[0]!, `is not a Tessera option (in ${name}); known options: ${FILE_KEYS.join(', ')}`);
    process.emitWarning(`Tessera ignores these options of ${name}: ${unknown.join(', ')}`);
  }
  return { path: file, name, options };
}

/** ESM import; a CommonJS `module.exports` file inside an ESM package is evaluated as CommonJS. */
async function importConfigModule(file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const message = e instanceof Error ? e.message : '';
    if (!/\b(module|exports|require) is not defined\b/.test(message)) throw e;
    const { createRequire } = await import('node:module');
    const cjs = { exports: {} as unknown };
    const source = readFileSync(file, 'utf8');
    // The user's own config file is trusted code, exactly as `require` would treat it.
    const run = new Function('module', 'exports', 'require', '__filename', '__dirname', source) as (
      ...args: unknown[]
    ) => void;
    run(cjs, cjs.exports, createRequire(file), file, path.dirname(file));
    return { default: cjs.exports };
  }
}

// ---------------------------------------------------------------------------
// Helpers.

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Cube's duration strings: `10m`, `30s`, `500ms`, `1h`, or plain seconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

/** `10.0.0.0/8` or a bare address (as /32 or /128); undefined when malformed. */
function normaliseCidr(value: string): string | undefined {
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined || address === undefined) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const maxBits = family === 4 ? 32 : 128;
  if (prefix === undefined) return `${address}/${maxBits}`;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > maxBits) return undefined;
  return `${address}/${Number(prefix)}`;
}

/** Freezes plain data recursively; functions and class instances (hooks, zod schemas) are left as they are. */
function deepFreezeData<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    for (const v of Object.values(value as object)) deepFreezeData(v);
    Object.freeze(value);
  }
  return value;
}
