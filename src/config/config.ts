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
  /** TESSERA_DB_RLS=on: every query runs in a transaction under `rlsRole` with `request.jwt.claims` set. */
  readonly rowLevelSecurity?: boolean | undefined;
  /** TESSERA_DB_RLS_ROLE, default `tessera_query`. */
  readonly rlsRole?: string | undefined;
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
  readonly audit?: AuditConfig | undefined;
}
