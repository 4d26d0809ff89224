/**
 * The operator surface under /api: admin auth (setup, login, logout, session,
 * password change) and API key management. Keys never manage keys or
 * passwords: every management route takes the session cookie only.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import path from 'node:path';
import { securityOf, type OperatorConfig } from '../config/config.js';
import { EngineError, isEngineError } from '../errors/engine-error.js';
import { checkContextSchema } from '../auth/check-context-schema.js';
import { deriveSecurityContext } from '../auth/derive-security-context.js';
import type { AppDeps } from '../server/app-deps.js';
import { metadataUnavailable } from './create-api-key-authenticator.js';
import { API_KEY_ID_PATTERN, createApiKeyStore, type ApiKeyRecord } from './create-api-key-store.js';
import { createClientIpResolver, limiterBucket } from './create-client-ip-resolver.js';
import { createLimiterFactory } from './create-limiter-factory.js';
import { createOperatorStore } from './create-operator-store.js';
import { createSessionManager, SESSION_COOKIE, type Session } from './create-session-manager.js';
import { checkPasswordPolicy } from './check-password-policy.js';
import { metaSchemaName } from './migrate-operator-schema.js';
import { createPasswordHasher } from './password-hasher.js';
import { loadSetupToken } from './setup-token.js';
import { parseOperatorInput, createKeyBody, listKeysQuery, loginBody, passwordChangeBody, setupBody } from './operator-input.js';

export interface OperatorRouterOptions {
  /** Milliseconds since the epoch; injected so session expiry is testable. */
  readonly now?: (() => number) | undefined;
  /** Where a generated setup token is printed (standard output by default). */
  readonly printSetupToken?: ((line: string) => void) | undefined;
}

const errors = {
  notFound: () => new EngineError('ERR_NOT_FOUND', 'Not found.'),
  sessionRequired: () =>
    new EngineError('ERR_AUTH_SESSION_REQUIRED', 'An admin session is required; log in with POST /api/auth/login.'),
  badCredentials: () => new EngineError('ERR_AUTH_BAD_CREDENTIALS', 'Wrong password.'),
  setupDone: () => new EngineError('ERR_AUTH_SETUP_DONE', 'Setup has already been completed.'),
  setupRequired: () =>
    new EngineError('ERR_AUTH_SETUP_REQUIRED', 'Admin setup is required; set a password with POST /api/auth/setup first.'),
  localOnly: (what: string) =>
    new EngineError('ERR_AUTH_METHOD_NOT_ALLOWED', `${what} is only available when TESSERA_AUTH=local.`),
  weakPassword: (message: string) => new EngineError('ERR_AUTH_WEAK_PASSWORD', message),
  keyNotFound: () => new EngineError('ERR_NOT_FOUND', 'API key not found or already revoked.'),
  setupToken: () =>
    new EngineError('ERR_AUTH_SETUP_TOKEN', 'First-run setup needs the one-time setup token in the X-Setup-Token header.'),
  crossSite: () => new EngineError('ERR_AUTH_CROSS_SITE', 'Cross-site requests to the operator API are refused.'),
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Writes must come from the operator's own pages (or from a non-browser client, which sends
 * neither header): `Sec-Fetch-Site` other than same-origin/none, or a foreign `Origin`, is refused.
 */
function sameOriginWrites(allowedOrigins: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return next(errors.crossSite());
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const own = `${req.protocol}://${req.get('host') ?? ''}`;
      if (origin !== own && !allowedOrigins.includes(origin)) return next(errors.crossSite());
    }
    next();
  };
}

/** The shared password compared through HMACs of equal length, in constant time. */
function sharedPasswordCheck(password: string | undefined): (candidate: string) => boolean {
  const pepper = randomBytes(32);
  const mac = (value: string) => createHmac('sha256', pepper).update(value, 'utf8').digest();
  const expected = password === undefined ? undefined : mac(password);
  return (candidate) => expected !== undefined && timingSafeEqual(mac(candidate), expected);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A key's context must be given explicitly and read as a token payload would be; `allTenants: true`
 * (with no context) is the separate choice of a key that sees every tenant.
 */
function keyContext(
  body: { securityContext?: Record<string, unknown> | undefined; allTenants?: true | undefined },
  raw: unknown,
  deps: AppDeps,
) {
  if (body.allTenants === true) {
    if (body.securityContext !== undefined) {
      throw new EngineError('ERR_BAD_REQUEST', 'Give either securityContext or allTenants: true, not both.');
    }
    try {
      checkContextSchema(deps.config.hooks.securityContextSchema, {});
    } catch (cause) {
      // The key would be refused on every request; say so now.
      throw new EngineError('ERR_BAD_REQUEST', 'An all-tenants key has no claims, which securityContextSchema does not accept.', { cause });
    }
    return {};
  }
  if (body.securityContext === undefined || (Object.keys(body.securityContext).length === 0 && !hasOwnProto(raw))) {
    throw new EngineError(
      'ERR_BAD_REQUEST',
      'securityContext is required and must name at least one claim; a key for every tenant needs allTenants: true.',
    );
  }
  try {
    const { securityContext } = deriveSecurityContext(raw, deps.config.jwt.claimsNamespace, 'securityContext');
    checkContextSchema(deps.config.hooks.securityContextSchema, securityContext);
  } catch (cause) {
    throw new EngineError('ERR_BAD_REQUEST', `${isEngineError(cause) ? cause.message : 'securityContext is invalid'}.`, { cause });
  }
  return body.securityContext;
}

const hasOwnProto = (value: unknown): boolean => typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__');

function keyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    scopes: record.scopes,
    securityContext: record.securityContext,
    allTenants: record.allTenants,
    createdAt: record.createdAt.toISOString(),
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    revokedAt: record.revokedAt?.toISOString() ?? null,
    expiresAt: record.expiresAt?.toISOString() ?? null,
  };
}

const MAX_BODY_BYTES = 16 * 1024;
const badBody = (cause?: unknown) =>
  new EngineError('ERR_BAD_REQUEST', 'The request body must be a JSON object of at most 16 KB.', cause === undefined ? {} : { cause });

/**
 * JSON bodies up to 16 KB; a broken or oversized body is a clear 400. When the
 * app already parsed the body (with a larger limit), the declared length is checked.
 */
function jsonBody(): RequestHandler {
  const parse = express.json({ limit: MAX_BODY_BYTES });
  return (req, res, next) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return next(badBody());
    parse(req, res, (err?: unknown) => next(err === undefined ? undefined : badBody(err)));
  };
}

/** Counts attempts per client address; a success gives its point back, so only failures add up. */
function attemptGuard(limiter: RateLimiterAbstract) {
  return {
    async begin(key: string): Promise<void> {
      try {
        await limiter.consume(key);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw metadataUnavailable(e);
        const retryAfter = String(Math.max(1, Math.ceil(e.msBeforeNext / 1000)));
        throw new EngineError('ERR_AUTH_RATE_LIMITED', `Too many failed attempts; retry after ${retryAfter} seconds.`, {
          headers: { 'Retry-After': retryAfter },
        });
      }
    },
    async succeeded(key: string): Promise<void> {
      await limiter.reward(key, 1).catch(() => undefined);
    },
  };
}

/** Builds the /api router. Options are checked here, once, at start-up. */
export function createOperatorRouter(deps: AppDeps, options: OperatorRouterOptions = {}): Router {
  const router = Router();
  const operator: OperatorConfig = deps.config.operator;
  const mode = operator.authMode;
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.use(sameOriginWrites((deps.config.corsOrigins ?? []).filter((o) => o !== '*')));

  if (mode === 'none') {
    // Sparklytics' rule: without operator auth the auth and key endpoints do not exist.
    router.use(['/auth', '/keys'], () => {
      throw errors.notFound();
    });
    return router;
  }

  const schema = metaSchemaName(operator.metaSchema);
  const security = securityOf(deps.config);
  const now = options.now ?? Date.now;
  const knex = deps.db.knex;
  const store = createOperatorStore(knex, schema);
  const keys = createApiKeyStore(knex, schema);
  const sessions = createSessionManager({ store, sessionDays: operator.sessionDays, now });
  const hasher = createPasswordHasher({ memoryKib: operator.argon2MemoryKib });
  const sharedPasswordMatches = sharedPasswordCheck(operator.password);
  const clientIp = createClientIpResolver(operator.trustedProxies);
  const attempts = attemptGuard(
    createLimiterFactory({ knex, schema, redisUrl: operator.redisUrl })({
      name: 'login',
      points: operator.loginMaxFailures,
      durationSec: operator.loginWindowSec,
    }),
  );
  // Setup has its own counter, so anonymous setup attempts can never lock the admin out of login.
  const setupAttempts = attemptGuard(
    createLimiterFactory({ knex, schema, redisUrl: operator.redisUrl })({
      name: 'setup',
      points: operator.loginMaxFailures,
      durationSec: operator.loginWindowSec,
    }),
  );
  const attemptKey = (req: Request) => `ip:${limiterBucket(clientIp(req))}`;
  const db = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      throw metadataUnavailable(e);
    }
  };

  const cookieOptions = {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/',
    secure: operator.https,
  };
  const setSessionCookie = (res: Response, session: Session) =>
    res.cookie(SESSION_COOKIE, session.token, { ...cookieOptions, maxAge: operator.sessionDays * 86_400_000 });
  const clearSessionCookie = (res: Response) => res.cookie(SESSION_COOKIE, '', { ...cookieOptions, maxAge: 0 });

  const currentSession = async (req: Request): Promise<Session | undefined> => {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    return token === undefined || token === '' ? undefined : db(() => sessions.verify(token));
  };
  const requireSession = async (req: Request, res: Response): Promise<Session> => {
    const session = await currentSession(req);
    if (session === undefined) throw errors.sessionRequired();
    res.locals.operatorSession = session;
    return session;
  };
  const adminExists = async () => mode === 'password' || (await db(() => store.adminPasswordHash())) !== undefined;

  // --- auth -------------------------------------------------------------------

  router.get('/auth/status', async (req, res) => {
    const setupRequired = !(await adminExists());
    const authenticated = !setupRequired && (await currentSession(req)) !== undefined;
    res.json({ mode, setup_required: setupRequired, authenticated });
  });

  // Production setup needs the one-time token; it is prepared at start while no admin exists.
  const setupToken =
    mode === 'local' && deps.config.production
      ? adminExists().then((exists) =>
          exists && security.setupToken === undefined
            ? undefined
            : loadSetupToken({
                configured: security.setupToken,
                file: path.join(deps.config.dataDir ?? path.resolve('.tessera'), 'setup-token'),
                print: options.printSetupToken,
              }),
        )
      : undefined;
  // A failure here is reported by the first setup request, not as an unhandled rejection.
  setupToken?.catch(() => undefined);

  // Counts the attempt and checks the setup token before the body is read, whoever the client is.
  const setupGate: RequestHandler = (req, _res, next) => {
    if (mode !== 'local') return next(errors.localOnly('Setup'));
    setupAttempts
      .begin(attemptKey(req))
      .then(async () => {
        if (setupToken === undefined) return;
        const token = await setupToken;
        const sent = req.headers['x-setup-token'];
        if (token === undefined || typeof sent !== 'string' || !token.matches(sent)) throw errors.setupToken();
      })
      .then(() => next(), next);
  };

  router.post('/auth/setup', setupGate, async (req, res, next) => {
    if (await adminExists()) throw errors.setupDone();
    next();
  }, jsonBody(), async (req, res) => {
    const { password } = parseOperatorInput(setupBody, req.body);
    const key = attemptKey(req);
    const weakness = checkPasswordPolicy(password);
    if (weakness !== undefined) throw errors.weakPassword(weakness);
    const created = await db(async () => store.createAdmin(await hasher.hash(password)));
    if (!created) throw errors.setupDone();
    await setupAttempts.succeeded(key);
    (await setupToken)?.consume();
    res.status(201).json({ ok: true });
  });

  router.post('/auth/login', jsonBody(), async (req, res) => {
    const { password } = parseOperatorInput(loginBody, req.body);
    const storedHash = mode === 'local' ? await db(() => store.adminPasswordHash()) : undefined;
    if (mode === 'local' && storedHash === undefined) throw errors.setupRequired();
    const key = attemptKey(req);
    await attempts.begin(key);
    const matches = storedHash === undefined ? sharedPasswordMatches(password) : await hasher.verify(storedHash, password);
    if (!matches) throw errors.badCredentials();
    await attempts.succeeded(key);
    const session = await db(() => sessions.issue());
    setSessionCookie(res, session);
    res.json({ authenticated: true, mode, expires_at: new Date(session.expiresAt * 1000).toISOString() });
  });

  router.post('/auth/logout', async (req, res) => {
    const session = await currentSession(req);
    if (session !== undefined) await db(() => sessions.revoke(session));
    clearSessionCookie(res);
    res.json({ ok: true });
  });

  router.get('/auth/session', async (req, res) => {
    const session = await requireSession(req, res);
    res.json({ authenticated: true, mode, expires_at: new Date(session.expiresAt * 1000).toISOString() });
  });

  router.put('/auth/password', jsonBody(), async (req, res) => {
    if (mode !== 'local') throw errors.localOnly('Changing the password');
    await requireSession(req, res);
    const body = parseOperatorInput(passwordChangeBody, req.body);
    const weakness = checkPasswordPolicy(body.new_password);
    if (weakness !== undefined) throw errors.weakPassword(weakness);
    const key = attemptKey(req);
    await attempts.begin(key);
    const storedHash = await db(() => store.adminPasswordHash());
    if (storedHash === undefined || !(await hasher.verify(storedHash, body.current_password))) {
      throw errors.badCredentials();
    }
    await db(async () => store.changeAdminPassword(await hasher.hash(body.new_password)));
    await attempts.succeeded(key);
    // The secret changed, so this session has ended too.
    clearSessionCookie(res);
    res.json({ ok: true });
  });

  // --- API keys ------------------------------------------------------------------

  router.post('/keys', jsonBody(), async (req, res) => {
    await requireSession(req, res);
    const body = parseOperatorInput(createKeyBody, req.body);
    // The raw body keeps a `__proto__` key that the parsed one has already turned into a prototype.
    const securityContext = keyContext(body, (req.body as { securityContext?: unknown } | undefined)?.securityContext, deps);
    const nowDate = new Date(now());
    const expiresAt = body.expiresAt === undefined ? null : new Date(body.expiresAt);
    if (expiresAt !== null && expiresAt.getTime() <= nowDate.getTime()) {
      throw new EngineError('ERR_BAD_REQUEST', 'expiresAt must be in the future.');
    }
    const allTenants = body.allTenants === true;
    const { record, key } = await db(() =>
      keys.create({ name: body.name, scopes: body.scopes, securityContext, allTenants, expiresAt }, nowDate),
    );
    if (allTenants) deps.logger.warn({ keyId: record.id, prefix: record.prefix }, 'API key for all tenants created');
    const { lastUsedAt: _lastUsedAt, revokedAt: _revokedAt, ...view } = keyView(record);
    res.status(201).json({ ...view, key });
  });

  router.get('/keys', async (req, res) => {
    await requireSession(req, res);
    const page = parseOperatorInput(listKeysQuery, req.query);
    const { keys: records, total } = await db(() => keys.list(page));
    res.json({
      keys: records.map(keyView),
      pagination: { total, limit: page.limit, offset: page.offset, has_more: page.offset + records.length < total },
    });
  });

  router.delete('/keys/:id', async (req, res) => {
    await requireSession(req, res);
    const id = String(req.params.id);
    if (id.length > 64 || !API_KEY_ID_PATTERN.test(id)) {
      throw new EngineError('ERR_BAD_REQUEST', 'The key id must be "key_" followed by 10 lower-case letters or digits.');
    }
    if (!(await db(() => keys.revoke(id, new Date(now()))))) throw errors.keyNotFound();
    res.status(204).end();
  });

  // However the app's error handler answers, Retry-After and friends must reach the client.
  router.use((err: unknown, _req: Request, res: Response, next: (e?: unknown) => void) => {
    if (isEngineError(err)) res.set(err.headers);
    next(err);
  });
  return router;
}
