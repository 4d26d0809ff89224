/**
 * Cube's REST API: /load, /sql, /dry-run and /meta, each behind the authenticate stage.
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { EngineError } from '../errors/engine-error.js';
import type { ApiScope, AuthResult } from '../auth/auth-result.js';
import type { AppDeps } from './app-deps.js';
import { requireScope } from '../operator/require-scope.js';
import { executeRequest, prepareRequest, type PipelineDeps, type QueryPolicies } from './query-pipeline.js';
import { buildMeta } from '../shape/build-meta.js';
import { normalizedQuery } from '../shape/shape-result.js';

export interface CubeRouterOptions {
  readonly policies?: QueryPolicies | undefined;
  /** Runs after authentication, e.g. the per-caller query rate limiter. */
  readonly afterAuth?: readonly RequestHandler[] | undefined;
  /** Members the caller may see in /meta (access policies); all public members when absent. */
  readonly visibleMembers?: ((auth: AuthResult) => Promise<ReadonlySet<string> | undefined>) | undefined;
}

type Handler = (req: Request, res: Response) => Promise<void>;

const auth = (res: Response): AuthResult => res.locals.auth as AuthResult;


/** Reads a request parameter from the query string (GET) or the JSON body (POST). */
function param(req: Request, name: string): unknown {
  if (req.method === 'GET') return (req.query as Record<string, unknown>)[name];
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' ? body[name] : undefined;
}

export function createCubeRouter(deps: AppDeps, options: CubeRouterOptions = {}): Router {
  const router = Router();
  const pipeline: PipelineDeps = { config: deps.config, model: deps.model, db: deps.db, policies: options.policies };

  const authenticate: RequestHandler = (req, res, next) => {
    deps
      .authenticate({ headers: req.headers, ip: req.ip ?? req.socket.remoteAddress ?? '', raw: req })
      .then((result) => {
        res.locals.auth = result;
        next();
      })
      .catch(next);
  };

  const route = (scope: ApiScope, handler: Handler): RequestHandler[] => [
    authenticate,
    ...(options.afterAuth ?? []),
    (req: Request, res: Response, next: NextFunction) => {
      try {
        requireScope(auth(res), scope);
      } catch (e) {
        next(e);
        return;
      }
      handler(req, res).catch(next);
    },
  ];

  const load: Handler = async (req, res) => {
    const prepared = await prepareRequest(param(req, 'query'), pipeline, auth(res));
    const multi = param(req, 'queryType') === 'multi';
    if (prepared.queryType !== 'regularQuery' && !multi) {
      throw new EngineError(
        'ERR_QUERY_INVALID',
        `'${prepared.queryType}' query type is not supported by the client. Please update the client.`,
      );
    }
    const results = await executeRequest(prepared, pipeline, auth(res));
    if (multi) {
      res.json({ queryType: prepared.queryType, results, pivotQuery: prepared.pivotQuery, slowQuery: false });
    } else {
      res.json(results[0]);
    }
  };

  const sql: Handler = async (req, res) => {
    const prepared = await prepareRequest(param(req, 'query'), pipeline, auth(res));
    const entries = prepared.queries.map((p) => ({
      sql: [p.compiled.sql, p.compiled.params],
      timeDimensionAlias: p.compiled.columns.find((c) => c.kind === 'timeDimension')?.alias,
      timeDimensionField: p.compiled.columns.find((c) => c.kind === 'timeDimension')?.member,
      order: Object.fromEntries(p.query.order.map(([id, dir]) => [id, dir])),
      cacheKeyQueries: [],
      preAggregations: [],
      dataSource: 'default',
      aliasNameToMember: Object.fromEntries(p.compiled.columns.map((c) => [c.alias, c.key])),
      external: false,
      memberNames: p.compiled.columns.map((c) => c.key),
    }));
    if (prepared.queryType === 'regularQuery') {
      res.json({ sql: entries[0] });
    } else {
      res.json(entries.map((e) => ({ sql: e, dataSource: 'default' })));
    }
  };

  const dryRun: Handler = async (req, res) => {
    const prepared = await prepareRequest(param(req, 'query'), pipeline, auth(res));
    const normalizedQueries = prepared.queries.map((p) => normalizedQuery(p.query));
    res.json({
      queryType: prepared.queryType,
      normalizedQueries,
      // As Cube: one object per query, holding that query's whole order.
      queryOrder: prepared.queries.map((p) => Object.fromEntries(p.query.order.map(([id, dir]) => [id, dir]))),
      transformedQueries: prepared.queries.map(() => null),
      pivotQuery: prepared.pivotQuery,
    });
  };

  // Without access policies every caller sees the same /meta, so it is built once.
  let publicMeta: ReturnType<typeof buildMeta> | undefined;
  const meta: Handler = async (_req, res) => {
    const visible = options.visibleMembers ? await options.visibleMembers(auth(res)) : undefined;
    res.json(visible ? buildMeta(deps.model, visible) : (publicMeta ??= buildMeta(deps.model)));
  };

  router.get('/load', ...route('query', load));
  router.post('/load', ...route('query', load));
  router.get('/sql', ...route('query', sql));
  router.post('/sql', ...route('query', sql));
  router.get('/dry-run', ...route('query', dryRun));
  router.post('/dry-run', ...route('query', dryRun));
  router.get('/meta', ...route('meta', meta));
  return router;
}
