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
  /** TESSERA_META_SCHEMA: PostgreSQL schema for operator state, default `tessera_meta`. */
  readonly metaSchema?: string | undefined;
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
  /** TESSERA_SEED=true: seed the demo dataset into DATABASE_URL at start-up (the embedded database is always seeded). */
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
}
