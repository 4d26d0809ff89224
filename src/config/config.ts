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
  /** Fail-closed switches of issue 12; absent in hand-built configs, which then get `DEFAULT_SECURITY`. */
  readonly security?: SecurityConfig | undefined;
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
