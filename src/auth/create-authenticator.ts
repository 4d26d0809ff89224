/**
 * The AUTHENTICATE stage: request headers → AuthResult, or an EngineError.
 *
 * Order: API key (when the operator enabled keys) → the config's `checkAuth`
 * (which replaces everything below) → no token (dev mode only) → JWT, routed
 * by its header `alg` to the HS256 secrets or the JWKS verifier, each with its
 * own allowlist taken from config, never from the token.
 */
import { securityOf, type Config, type SecurityConfig } from '../config/config.js';
import { ConfigError } from '../errors/engine-error.js';
import type { SecurityContext } from '../schema/model.js';
import { allowMissingClaims } from '../schema/security-context-proxy.js';
import type { AuthRequest, Authenticate } from '../server/app-deps.js';
import type { ApiKeyAuthenticator } from './api-key-authenticator.js';
import { authErrors, isPlainObject } from './auth-errors.js';
import type { ApiScope, AuthResult } from './auth-result.js';
import { checkContextSchema } from './check-context-schema.js';
import { ASYMMETRIC_ALGORITHMS, createJwksVerifier, type JwksOptions } from './create-jwks-verifier.js';
import { decodeJwtHeader } from './decode-jwt-header.js';
import { deriveSecurityContext } from './derive-security-context.js';
import { extractCredential } from './extract-token.js';
import { runCheckAuth } from './run-check-auth.js';
import { createHs256Verifier } from './verify-hs256.js';
import { checkCognitoClaims, claimOptions } from './verify-claims.js';

export interface AuthenticatorDeps {
  /** The operator's API keys (issue 4); without it `X-API-Key` is ignored. */
  readonly apiKeys?: ApiKeyAuthenticator | undefined;
  /** Milliseconds since the epoch; exp/nbf are judged against it. */
  readonly clock?: (() => number) | undefined;
  /** JWKS network and cache settings. */
  readonly jwks?: JwksOptions | undefined;
}

const ALL_SCOPES: readonly ApiScope[] = Object.freeze(['query', 'meta']);

/**
 * Builds the authenticate stage. Throws `ConfigError` naming the option when the
 * auth options cannot work (checked once, at start-up).
 */
export function createAuthenticator(config: Config, deps: AuthenticatorDeps = {}): Authenticate {
  const plan = planVerification(config);
  const clock = deps.clock ?? Date.now;
  const hooks = config.hooks;
  const verifyHs256 = createHs256Verifier(plan.hsAllowed ? config.apiSecrets : []);
  const verifyJwks =
    config.jwt.jwkUrl !== undefined ? createJwksVerifier(config.jwt.jwkUrl, plan.asymmetric, deps.jwks) : undefined;

  const verified = new Map<string, { readonly result: AuthResult; readonly untilMs: number }>();

  const security = securityOf(config);
  const derive = (value: unknown, what: string, allTenants = false) => {
    const derived = deriveSecurityContext(value, config.jwt.claimsNamespace, what);
    checkContextSchema(hooks.securityContextSchema, derived.securityContext);
    if (allTenants || security.missingClaims === 'matchAll') allowMissingClaims(derived.securityContext);
    return derived;
  };
  const finish = (via: AuthResult['via'], value: unknown, what: string): AuthResult => {
    const { rawContext, securityContext } = derive(value, what);
    return Object.freeze({ via, rawContext, securityContext, scopes: ALL_SCOPES, subject: subjectOf(rawContext, securityContext) });
  };

  return async (req: AuthRequest): Promise<AuthResult> => {
    const credential = extractCredential(req.headers, { apiKeys: deps.apiKeys !== undefined });
    if (credential.kind === 'ambiguous') throw authErrors.ambiguous(credential.reason);

    if (credential.kind === 'apiKey' && deps.apiKeys !== undefined) {
      const result = await deps.apiKeys(credential.token, req);
      // A key's bound context is read exactly as a token payload would be (u merge, namespace, __proto__).
      const { rawContext, securityContext } = derive(result.securityContext, "The API key's security context", result.allTenants);
      return Object.freeze({ ...result, rawContext, securityContext });
    }
    const token = credential.kind === 'none' ? undefined : credential.token;

    if (hooks.checkAuth !== undefined) {
      const context = await runCheckAuth(hooks.checkAuth, req, token);
      return finish('checkAuth', context, 'The security context set by checkAuth');
    }

    if (token === undefined) {
      if (!config.devMode) throw authErrors.missing();
      return finish('dev', security.devSecurityContext ?? {}, 'The dev-mode context (devSecurityContext)');
    }

    const cached = verified.get(token);
    if (cached !== undefined && cached.untilMs > clock()) return cached.result;

    const header = decodeJwtHeader(token, config.jwt.maxTokenBytes);
    const claims = claimOptions(config.jwt, clock());
    let payload: unknown;
    let via: AuthResult['via'];
    if (header.alg === 'HS256' && plan.hsAllowed) {
      payload = verifyHs256(token, claims);
      via = 'jwt';
    } else if (verifyJwks !== undefined && plan.asymmetric.includes(header.alg)) {
      payload = await verifyJwks(token, header, claims);
      via = 'jwks';
    } else {
      // Covers alg none, HS384/512, RS→HS confusion and dev mode without a secret to verify with.
      throw authErrors.invalidToken(`alg ${header.alg} is not accepted by this configuration`);
    }
    checkCognitoClaims(payload, config.jwt);
    checkLifetime(payload, security, clock());
    const result = finish(via, payload, 'The token payload');
    if (via === 'jwt') remember(token, result, payload);
    return result;
  };

  /**
   * Verified HS256 tokens are remembered briefly (as PostgREST's JWT cache does): the same
   * token string means the same signature, and an entry never outlives the token's `exp`.
   */
  function remember(token: string, result: AuthResult, payload: unknown): void {
    const exp = isPlainObject(payload) && typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
    const untilMs = Math.min(exp, clock() + VERIFIED_TOKEN_TTL_MS);
    if (verified.size >= VERIFIED_TOKEN_MAX) verified.clear();
    verified.set(token, { result, untilMs });
  }
}

const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKEN_MAX = 10_000;

interface VerificationPlan {
  readonly hsAllowed: boolean;
  readonly asymmetric: readonly string[];
}

const KNOWN_ALGORITHMS: readonly string[] = ['HS256', ...ASYMMETRIC_ALGORITHMS];

function planVerification(config: Config): VerificationPlan {
  const { jwt } = config;
  for (const alg of jwt.algorithms ?? []) {
    if (!KNOWN_ALGORITHMS.includes(alg)) {
      throw new ConfigError('jwt.algorithms', `${alg} is not supported; use HS256 with secrets or one of ${ASYMMETRIC_ALGORITHMS.join(', ')} with jwt.jwkUrl`);
    }
  }
  if (config.apiSecrets.some((s) => s.length === 0)) throw new ConfigError('apiSecrets', 'a secret is empty');
  if (!Number.isInteger(jwt.maxTokenBytes) || jwt.maxTokenBytes <= 0) {
    throw new ConfigError('jwt.maxTokenBytes', 'must be a positive integer');
  }
  if (!Number.isFinite(jwt.clockToleranceSec) || jwt.clockToleranceSec < 0) {
    throw new ConfigError('jwt.clockToleranceSec', 'must be zero or more seconds');
  }

  const hsAllowed = config.apiSecrets.length > 0 && (jwt.algorithms === undefined || jwt.algorithms.includes('HS256'));
  let asymmetric: readonly string[] = [];
  if (jwt.jwkUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(jwt.jwkUrl);
    } catch {
      throw new ConfigError('jwt.jwkUrl', 'is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('jwt.jwkUrl', 'must be an http(s) URL');
    asymmetric = jwt.algorithms === undefined ? ['RS256'] : jwt.algorithms.filter((a) => a !== 'HS256');
    if (asymmetric.length === 0) {
      throw new ConfigError('jwt.algorithms', 'lists no asymmetric algorithm (such as RS256) for the keys at jwt.jwkUrl');
    }
  }
  if (!config.devMode && config.hooks.checkAuth === undefined && !hsAllowed && asymmetric.length === 0) {
    throw new ConfigError('apiSecrets', 'nothing can verify tokens: set CUBEJS_API_SECRET, jwt.jwkUrl or checkAuth');
  }
  return { hsAllowed, asymmetric };
}

/** In production a token must expire, and no token may live longer than `maxTokenLifetimeSec`. */
function checkLifetime(payload: unknown, security: SecurityConfig, nowMs: number): void {
  const claims = isPlainObject(payload) ? payload : {};
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  const max = security.maxTokenLifetimeSec;
  if (exp === undefined) {
    if (security.requireTokenExp || max !== undefined) throw authErrors.invalidToken('the token has no exp claim');
    return;
  }
  if (max === undefined) return;
  const issuedAt = typeof claims.iat === 'number' ? Math.min(claims.iat, nowMs / 1000) : nowMs / 1000;
  if (exp - issuedAt > max) throw authErrors.invalidToken(`the token lives longer than ${max} seconds`);
}

/** A stable caller id for rate limiting: `sub`, else the user id. */
function subjectOf(raw: SecurityContext, context: SecurityContext): string | undefined {
  for (const value of [raw.sub, context.id]) {
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  }
  return undefined;
}
