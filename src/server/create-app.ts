/**
 * The express app: request id → access log → security headers → health
 * probes → JSON body → Cube API and operator API → 404 → the one error handler.
 */
import express, { type Request, type Response } from 'express';
import cors from 'cors';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { EngineError } from '../errors/engine-error.js';
import { createQueryRateLimiter } from '../operator/create-query-rate-limiter.js';
import { createOperatorRouter } from '../operator/operator-router.js';
import type { AppDeps } from './app-deps.js';
import { createCubeRouter } from './cube-router.js';
import { perContextRouter } from './per-context-router.js';
import type { Model } from '../schema/model.js';
import { createQueryPolicies } from '../policy/create-query-policies.js';
import { createErrorHandler } from './error-handler.js';
import { requestIdMiddleware, requestIdOf } from './request-id.js';

const HEALTH_PATHS = new Set(['/livez', '/readyz']);

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  // X-Forwarded-For counts only from the configured proxies, so req.ip cannot be spoofed.
  app.set('trust proxy', deps.config.operator.trustedProxies.length > 0 ? [...deps.config.operator.trustedProxies] : false);
  app.set('x-powered-by', false);

  app.use(requestIdMiddleware);
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
        exposedHeaders: ['x-request-id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
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

  app.use(express.json({ limit: '1mb' }));
  // Query limits per API key / token subject run after authentication, so they see res.locals.auth.
  const limiter = createQueryRateLimiter(deps);
  const cubeRouterFor = (model: Model) => {
    const modelDeps = model === deps.model ? deps : Object.freeze({ ...deps, model });
    const policies = createQueryPolicies(deps.config, model);
    return createCubeRouter(modelDeps, { afterAuth: [limiter], policies, visibleMembers: policies.visibleMembers });
  };
  // A COMPILE_CONTEXT model answers each caller from the model compiled for its context.
  app.use('/cubejs-api/v1', deps.modelFor ? perContextRouter(deps, deps.modelFor, cubeRouterFor) : cubeRouterFor(deps.model));
  app.use('/api', createOperatorRouter(deps));

  app.use((_req: Request, _res: Response, next: (err?: unknown) => void) => {
    next(new EngineError('ERR_NOT_FOUND', 'Not found.'));
  });
  app.use(createErrorHandler(deps.logger));
  return app;
}
