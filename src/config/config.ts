/**
 * The validated, frozen configuration. Only `src/config/` reads `process.env`
 * or the config file; every other module receives a `Config`.
 */
import type { SecurityContext } from '../schema/model.js';

export interface DatabaseConfig {
  /** Connection string; undefined means "start the embedded PostgreSQL". */
  readonly url: string | undefined;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  /** TESSERA_DB_CLIENT_TIMEOUT_MS: the client gives up on a statement (and drops its connection) after this; longer than the statement timeout. */
  readonly clientTimeoutMs?: number | undefined;
  /** TESSERA_DB_TENANT_CONCURRENCY: statements one security context may run at once. */
  readonly tenantConcurrency?: number | undefined;
  /** TESSERA_DB_QUEUE_DEPTH: statements one security context may have waiting; past it 429. */
  readonly queueDepth?: number | undefined;
  /** TESSERA_DB_RLS=on: every query runs in a transaction under `rlsRole` with `request.jwt.claims` set. */
  readonly rowLevelSecurity?: boolean | undefined;
  /** TESSERA_DB_RLS_ROLE, default `tessera_query`. */
  readonly rlsRole?: string | undefined;
  /** TESSERA_DB_TRANSACTION_POOLING: behind PgBouncer's transaction mode, session settings travel in each statement's transaction. */
  readonly transactionPooling?: boolean | undefined;
}

/** Limits on a request, checked before the database; each names its config key in the 400 (issue 13). */
export interface QueryBudgets {
  /** TESSERA_MAX_FILTER_DEPTH: and/or nesting levels. */
  readonly maxFilterDepth: number;
  /** TESSERA_MAX_FILTERS: filters in one query, counted at every level. */
  readonly maxFilters: number;
  /** TESSERA_MAX_FILTER_VALUES: values in one filter. */
  readonly maxFilterValues: number;
  /** TESSERA_MAX_QUERY_PARAMS: bound parameters of one statement (PostgreSQL stops at 65,535). */
  readonly maxParams: number;
  /** TESSERA_MAX_VALUE_LENGTH: characters of one filter value. */
  readonly maxValueLength: number;
  /** TESSERA_MAX_DATE_LENGTH: characters of one date or date-range value. */
  readonly maxDateLength: number;
  /** TESSERA_MAX_MEMBERS: measures, dimensions, segments, time dimensions and order entries of one query. */
  readonly maxMembers: number;
  /** TESSERA_MAX_MULTI_QUERY_ROWS: rows a compare or blending request may return in total (at most the query row cap). */
  readonly maxMultiQueryRows: number;
}

/** Request deadline and shutdown (issue 13). */
export interface ServerConfig {
  /** TESSERA_REQUEST_TIMEOUT_MS: a query request is cancelled (statement included) after this. */
  readonly requestTimeoutMs: number;
  /** TESSERA_SHUTDOWN_GRACE_MS: how long in-flight requests get after SIGTERM. */
  readonly shutdownGraceMs: number;
  /** TESSERA_DB_RETRY_MAX_MS: the longest pause between start-up attempts while the database is down. */
  readonly startupRetryMaxMs: number;
}

/** TESSERA_AUDIT: where one JSON record per data request and operator write goes. */
export interface AuditConfig {
  readonly target: { readonly kind: 'off' } | { readonly kind: 'stdout' } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'postgres' };
  /** TESSERA_AUDIT_CLAIM_VALUES: claim names whose values are written (others are `[redacted]`); `*` for all. */
  readonly claimValues: readonly string[];
}

export interface JwtConfig {
  readonly jwkUrl?: string | undefined;
  readonly issuer?: readonly string[] | undefined;
  readonly audience?: readonly string[] | undefined;
  readonly subject?: string | undefined;
  readonly algorithms?: readonly string[] | undefined;
  readonly claimsNamespace?: string | undefined;
  readonly clockToleranceSec: number;
  /** Cognito access tokens carry `client_id` and `token_use` instead of `aud`. */
  readonly clientId?: readonly string[] | undefined;
  readonly tokenUse?: 'access' | 'id' | undefined;
  readonly maxTokenBytes: number;
}

/** The request-time hooks a config file may export (issue 3). */
export interface ConfigHooks {
  readonly checkAuth?: ((req: unknown, auth: string | undefined) => unknown) | undefined;
  readonly queryRewrite?: ((query: unknown, ctx: { securityContext: SecurityContext }) => unknown) | undefined;
  readonly contextToGroups?: ((ctx: { securityContext: SecurityContext }) => unknown) | undefined;
  /** Cube's `contextToAppId`: names the compiled model of a model that reads COMPILE_CONTEXT (issue 11). */
  readonly contextToAppId?: ((ctx: { securityContext: SecurityContext }) => unknown) | undefined;
  /** A zod schema (anything with `safeParse`). */
  readonly securityContextSchema?: { safeParse(v: unknown): { success: boolean; error?: unknown; data?: unknown } } | undefined;
}

/** Operator surface: admin auth modes, sessions, API keys, abuse limits (issue 4). */
export interface OperatorConfig {
  /** TESSERA_AUTH: governs /api/auth/* and /api/keys. Default `local` in production, `none` otherwise? see load-config. */
  readonly authMode: 'none' | 'password' | 'local';
  /** TESSERA_PASSWORD for `password` mode. */
  readonly password: string | undefined;
  /** TESSERA_HTTPS=false drops the Secure cookie flag. */
  readonly https: boolean;
  /** TESSERA_SESSION_DAYS, default 7. */
  readonly sessionDays: number;
  /** TESSERA_TRUSTED_PROXIES: CIDR list whose X-Forwarded-For is honoured. */
  readonly trustedProxies: readonly string[];
  /** REDIS_URL: shared limiter counters in Redis instead of PostgreSQL. */
  readonly redisUrl: string | undefined;
  /** TESSERA_ARGON2_MEMORY_KIB, default 19456. */
  readonly argon2MemoryKib: number;
  /** TESSERA_LOGIN_MAX_FAILURES (5) per TESSERA_LOGIN_WINDOW_SEC (900). */
  readonly loginMaxFailures: number;
  readonly loginWindowSec: number;
  /** TESSERA_QUERY_RATE_LIMIT requests per TESSERA_QUERY_RATE_WINDOW_SEC, per key / token subject. */
  readonly queryRateLimit: number;
  readonly queryRateWindowSec: number;
  /** TESSERA_RATE_LIMIT_FLUSH_MS (250): how often a process sends the query and anonymous limiters' local counts to the store. */
  readonly rateLimitFlushMs?: number | undefined;
  /** TESSERA_META_SCHEMA: PostgreSQL schema for operator state, default `tessera_meta`. */
  readonly metaSchema?: string | undefined;
}

/** The result cache (issue 14). Redis, when used, is `operator.redisUrl` (REDIS_URL). */
export interface CacheConfig {
  /** TESSERA_CACHE (default true): cache /load results keyed by statement, values and settings. */
  readonly enabled: boolean;
  /** TESSERA_CACHE_MAX_BYTES (default 64 MiB): the in-memory tier's bound. */
  readonly maxBytes: number;
  /** TESSERA_CACHE_DEFAULT_REFRESH_SEC (default 10, as Cube for PostgreSQL): freshness of a cube without `refresh_key`. */
  readonly defaultRefreshSec: number;
  /** TESSERA_CACHE_MAX_AGE_SEC (default 3600): longest life of an entry kept fresh only by `refresh_key.sql`. */
  readonly maxAgeSec: number;
  /** TESSERA_CACHE_REDIS_PREFIX (default `tessera:cache:`): namespace of the shared entries in Redis. */
  readonly redisPrefix: string;
  /** TESSERA_CONTINUE_WAIT_MS (default 10000, as Cube): after this a /load answers "Continue wait"; 0 waits forever. */
  readonly continueWaitMs: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  /** Dev mode: no token needed (a present token is still verified). */
  readonly devMode: boolean;
  /** HS256 secrets; the first signs, any verifies. Empty in dev mode without a secret. */
  readonly apiSecrets: readonly string[];
  readonly schemaPath: string;
  readonly configFile: string | undefined;
  /** TESSERA_DATA_DIR (default `.tessera` in cwd): embedded PostgreSQL data and the demo's dev secret. */
  readonly dataDir?: string | undefined;
  /** TESSERA_SEED=true: seed the demo dataset (schema tessera_demo) into DATABASE_URL at start-up (the embedded database is always seeded). */
  readonly seedOnStart?: boolean | undefined;
  readonly database: DatabaseConfig;
  /** Always set by loadConfig; optional so hand-built configs (tests) may leave them out and get the defaults. */
  readonly budgets?: QueryBudgets | undefined;
  readonly server?: ServerConfig | undefined;
  readonly query: {
    readonly defaultLimit: number;
    readonly maxLimit: number;
    readonly defaultTimezone: string;
  };
  readonly jwt: JwtConfig;
  readonly hooks: ConfigHooks;
  readonly operator: OperatorConfig;
  readonly logLevel: string;
  /** TESSERA_CORS_ORIGINS: browser origins allowed to call the API (`*` for any); none by default. */
  readonly corsOrigins?: readonly string[] | undefined;
  /** Fail-closed switches of issue 12; absent in hand-built configs, which then get `DEFAULT_SECURITY`. */
  readonly security?: SecurityConfig | undefined;
  /** The result cache; absent (hand-built configs) means no cache. */
  readonly cache?: CacheConfig | undefined;
  readonly audit?: AuditConfig | undefined;
}

/** How Tessera treats missing claims, tokens, setup and anonymous callers (issue 12). */
export interface SecurityConfig {
  /**
   * `refuse` (default): a cube whose every `.filter()` claim is missing, an `unsafeValue()` of a
   * missing claim and a policy condition reading one are refused. `matchAll`: Cube's `1 = 1`.
   */
  readonly missingClaims: 'refuse' | 'matchAll';
  /** The context of a dev-mode request without a token; without it such requests get `{}`. */
  readonly devSecurityContext?: SecurityContext | undefined;
  /** Tokens without `exp` are refused (always in production). */
  readonly requireTokenExp: boolean;
  /** The longest accepted token lifetime (`exp` − `iat`, else `exp` − now); no cap when absent. */
  readonly maxTokenLifetimeSec?: number | undefined;
  /** TESSERA_SETUP_TOKEN: the one-time token production first-run setup needs in `X-Setup-Token`. */
  readonly setupToken?: string | undefined;
  /** Requests without credentials allowed per client address per window. */
  readonly anonymousRateLimit: number;
  readonly anonymousRateWindowSec: number;
}

export const DEFAULT_SECURITY: SecurityConfig = Object.freeze({
  missingClaims: 'refuse',
  requireTokenExp: false,
  anonymousRateLimit: 300,
  anonymousRateWindowSec: 60,
});

/** The security switches of a config, defaults filled in. */
export const securityOf = (config: Config): SecurityConfig => config.security ?? DEFAULT_SECURITY;
