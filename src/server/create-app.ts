/**
 * The express app: request id → metrics → access log → security headers → health
 * probes, /metrics, /openapi.json → JSON body → audit → Cube API and operator API
 * → 404 → the one error handler.
 */
import express, { type Request, type Response } from 'express';
import cors from 'cors';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { EngineError } from '../errors/engine-error.js';
import { securityOf } from '../config/config.js';
import { createAnonymousRateLimiter } from '../operator/create-anonymous-rate-limiter.js';
import { createQueryRateLimiter } from '../operator/create-query-rate-limiter.js';
import { createOperatorRouter } from '../operator/operator-router.js';
import type { AppDeps } from './app-deps.js';
import { createCubeRouter } from './cube-router.js';
import { perContextRouter } from './per-context-router.js';
import type { Model } from '../schema/model.js';
import { createQueryPolicies } from '../policy/create-query-policies.js';
import { createErrorHandler } from './error-handler.js';
import { createRequestGuard } from './request-guard.js';
import { requestIdMiddleware, requestIdOf } from './request-id.js';
import { auditMiddleware } from '../audit/audit-middleware.js';
import { createExplainRouter } from '../audit/explain-router.js';
import { createAuditLog } from '../audit/create-audit-log.js';
import { createMetrics } from '../metrics/create-metrics.js';
import { instrumentDatabase } from '../metrics/instrument-database.js';
import { metricsRoute } from '../metrics/metrics-route.js';
import { observeRequests } from '../metrics/observe-requests.js';
import { requestTimingMiddleware } from '../metrics/request-timing.js';
import { openApiRoute } from '../openapi/openapi-route.js';

const HEALTH_PATHS = new Set(['/livez', '/readyz']);

/** `app.locals.close`: ends what the app started (timers, pending writes), not the database. */
export type AppClose = () => Promise<void>;

/** Closes an app built by createApp; safe on undefined. */
export async function closeApp(app: express.Express | undefined): Promise<void> {
  await (app?.locals.close as AppClose | undefined)?.();
}

export function createApp(appDeps: AppDeps): express.Express {
  const app = express();
  const metrics = appDeps.metrics ?? createMetrics({ db: appDeps.db });
  const audit = createAuditLog(appDeps.config.audit, {
    logger: appDeps.logger,
    knex: appDeps.db.knex,
    metaSchema: appDeps.config.operator.metaSchema,
    onDrop: (n) => metrics.auditDropped.inc(n),
  });
  // Every data query is timed for /metrics and Server-Timing.
  const deps: AppDeps = appDeps.metrics ? appDeps : Object.freeze({ ...appDeps, db: instrumentDatabase(appDeps.db, metrics), metrics });
  app.locals.metrics = metrics;
  app.locals.audit = audit;
  // X-Forwarded-For counts only from the configured proxies, so req.ip cannot be spoofed.
  app.set('trust proxy', deps.config.operator.trustedProxies.length > 0 ? [...deps.config.operator.trustedProxies] : false);
  app.set('x-powered-by', false);
  // Answers are no-store (they hold one tenant's rows), so an ETag is a hash of every body for nothing.
  app.set('etag', false);

  app.use(requestIdMiddleware);
  app.use(observeRequests(metrics));
  const accessLog = pinoHttp({
    logger: deps.logger,
    genReqId: (req) => requestIdOf(req),
    customLogLevel: (req, res, err) => {
      if (err || res.statusCode >= 500) return 'error';
      if (HEALTH_PATHS.has(req.url ?? '')) return 'debug';
      return 'info';
    },
    serializers: {
      // Only the path is logged: the query string may carry filter values, and headers carry credentials.
      req: (req: { id?: unknown; method?: string; url?: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        path: (req.url ?? '').split('?')[0],
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  });
  // Access lines are written at info; below that level pino-http would only build loggers nobody writes to.
  app.use(
    deps.logger.isLevelEnabled('info')
      ? accessLog
      : (req: Request, _res: Response, next: () => void) => {
          (req as Request & { log: typeof deps.logger }).log = deps.logger;
          next();
        },
  );
  app.use(helmet());
  if (deps.config.corsOrigins && deps.config.corsOrigins.length > 0) {
    const origins = deps.config.corsOrigins;
    app.use(
      cors({
        origin: origins.includes('*') ? '*' : [...origins],
        allowedHeaders: ['Authorization', 'Content-Type', 'x-cube-authorization', 'x-request-id', 'x-api-key'],
        exposedHeaders: ['x-request-id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After', 'x-tessera-cache', 'Server-Timing'],
        maxAge: 600,
      }),
    );
  }

  app.get('/livez', (_req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ health: 'HEALTH' });
  });
  app.get('/readyz', async (req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    try {
      await deps.db.ping();
      res.json({ health: 'HEALTH' });
    } catch (err) {
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'readiness check failed');
      res.status(503).json({ health: 'DOWN' });
    }
  });

  app.get('/metrics', metricsRoute(deps, metrics));
  app.get('/openapi.json', openApiRoute());

  // Only the Cube API parses here: the operator API reads its own small bodies, after its own checks.
  const jsonBody = express.json({ limit: '1mb' });
  const claimValues = deps.config.audit?.claimValues ?? [];
  app.use('/cubejs-api/v1', requestTimingMiddleware, auditMiddleware(audit, { kind: 'data', claimValues }));
  app.use('/api', auditMiddleware(audit, { kind: 'operator', claimValues }));
  // Query limits per API key / token subject run after authentication, so they see res.locals.auth.
  if (securityOf(deps.config).missingClaims === 'matchAll') {
    deps.logger.warn(
      'missingClaims is matchAll: a row filter whose security context claims are missing matches every row, as in Cube',
    );
  }
  const queryLimiter = createQueryRateLimiter(deps);
  const afterAuth = [queryLimiter, createRequestGuard(deps.config)];
  const anonymousLimiter = createAnonymousRateLimiter(deps);
  // Stops the limiters' flush timers (sending their last counts) and writes the last audit records;
  // a hot reload closes the app it replaces. The database is the caller's to close, after this.
  const close: AppClose = async () => {
    await Promise.all([queryLimiter.close(), anonymousLimiter.close()]);
    await audit.close();
  };
  app.locals.close = close;
  const cubeRouterFor = (model: Model) => {
    const modelDeps = model === deps.model ? deps : Object.freeze({ ...deps, model });
    const policies = createQueryPolicies(deps.config, model);
    return createCubeRouter(modelDeps, { afterAuth, policies, visibleMembers: policies.visibleMembers, anonymousLimiter });
  };
  // A COMPILE_CONTEXT model answers each caller from the model compiled for its context.
  app.use('/cubejs-api/v1', jsonBody, deps.modelFor ? perContextRouter(deps, deps.modelFor, cubeRouterFor) : cubeRouterFor(deps.model));
  app.use('/api', createExplainRouter(deps));
  app.use('/api', createOperatorRouter(deps));

  app.use((_req: Request, _res: Response, next: (err?: unknown) => void) => {
    next(new EngineError('ERR_NOT_FOUND', 'Not found.'));
  });
  app.use(createErrorHandler(deps.logger));
  return app;
}
